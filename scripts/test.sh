#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what is missing, builds, lints, brings the local
# rig up, runs every jest suite against it, brings the rig down and checks that nothing is left running.
# Extra arguments go to jest (e.g. `npm test -- test/domain`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
started=$(date +%s)
step() { printf '\n== %s (%ss)\n' "$*" "$(( $(date +%s) - started ))" >&2; }

step "npm dependencies"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

step "toolchain (scripts/setup-toolchain.sh)"
bash scripts/setup-toolchain.sh >/dev/null

step "build, typecheck, lint, format"
npm run -s build
npm run -s typecheck
npm run -s lint
npm run -s format:check

step "docker-compose.yml is valid"
docker-compose -f docker-compose.yml config -q

rig_dir=${MERIDIAN_RIG_DIR:-$HOME/.meridian/rig}
export MERIDIAN_RIG_DIR=$rig_dir
owns_rig=1
if ./bin/meridian dev status >/dev/null 2>&1; then
  owns_rig=0
  step "local rig already running: the suite uses it and leaves it up"
else
  step "local rig up"
fi

finish() {
  local code=$?
  if [ "$owns_rig" = 1 ]; then
    step "local rig down"
    ./bin/meridian dev down || code=1
    # `down` must leave no process behind: anything still running from the rig's directory is a bug.
    # Every rig process names that directory on its command line (the clusters' binaries live in it;
    # Temporal, the demo services and Prometheus get their database, config and storage paths in it).
    left=$(pgrep -af -- "$rig_dir" || true)
    if [ -n "$left" ]; then
      printf 'processes left behind by `meridian dev down`:\n%s\n' "$left" >&2
      pkill -9 -f -- "$rig_dir" || true
      code=1
    fi
  fi
  exit "$code"
}
trap finish EXIT
./bin/meridian dev up --profile dev

# Two tiers on one rig: every suite against the dev server, then the production tier (test/production)
# against the production profile (Temporal on PostgreSQL with mTLS, API keys and encrypted payloads).
# The clusters, registries, services and Prometheus stay up across the switch.
mkdir -p .meridian
rm -f .meridian/jest-*.json
# Arguments choose: test/production... runs only the production tier, anything else only the dev tier.
run_dev=1 run_production=1
if [ $# -gt 0 ]; then
  if [[ " $* " == *" test/production"* ]]; then run_dev=0; else run_production=0; fi
fi
set +e
jest_code=0
if [ "$run_dev" = 1 ]; then
  step "jest: every suite on the dev server"
  npx jest --runInBand --json --outputFile=.meridian/jest-dev.json "$@"
  jest_code=$?
fi
if [ "$run_production" = 1 ]; then
  step "local rig: switching to the production profile"
  if ./bin/meridian dev up --profile production; then
    step "jest: the production tier"
    if [ $# -gt 0 ]; then set -- "$@"; else set -- test/production; fi
    npx jest --runInBand --json --outputFile=.meridian/jest-production.json --testPathIgnorePatterns=/node_modules/ --testSequencer ./test/support/production-sequencer.js -- "$@"
    [ $? -eq 0 ] || jest_code=1
  else
    jest_code=1
  fi
  if [ "$owns_rig" = 0 ]; then ./bin/meridian dev up --profile dev >/dev/null || jest_code=1; fi
fi
set -e
node -e '
  const fs = require("fs");
  const runs = fs.readdirSync(".meridian").filter((f) => /^jest-.*\.json$/.test(f)).map((f) => require("./.meridian/" + f));
  const sum = (k) => runs.reduce((n, r) => n + r[k], 0);
  const skipped = sum("numPendingTests") + sum("numTodoTests");
  console.log(`tests: ${sum("numPassedTests")} passed, ${sum("numFailedTests")} failed` + (skipped ? `, ${skipped} skipped` : ""));
  if (sum("numTotalTests") === 0) { console.error("no test ran"); process.exit(1); }
' || jest_code=1
exit "$jest_code"
