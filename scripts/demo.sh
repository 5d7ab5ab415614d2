#!/usr/bin/env bash
# The demo, from a fresh clone: installs dependencies, builds the toolchain (once), builds Meridian,
# brings the local rig up and runs the example release through it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/setup-toolchain.sh >/dev/null
npm run -s build
exec ./bin/meridian demo "$@"
