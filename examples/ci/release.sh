#!/usr/bin/env bash
# Takes a release spec through Meridian from CI: validate, plan, then start and wait for the end.
# Both example pipelines (github-actions.yml, gitlab-ci.yml) call this script, so what each of
# Meridian's exit codes means to a pipeline is said in one place.
#
#   examples/ci/release.sh release.yaml [validate|plan|start]...    (no step: all three, in order)
#
# Environment (only whether a variable is set is ever looked at; no value is printed):
#   MERIDIAN                 the meridian binary (default: `meridian` on PATH)
#   MERIDIAN_START_ARGS      extra arguments of `start`, split on spaces, e.g. "--bake 1s --canary-soak 1s"
#   MERIDIAN_EXPECT_VERSION  refuse (exit 2) a spec whose metadata.version differs: the pushed tag or the
#                            requested version, so a forgotten bump cannot "find" the previous release
#                            and pass; a leading "v" is dropped
#   MERIDIAN_EXPECT_APP      refuse (exit 2) a spec whose metadata.app differs (the app the pipeline's
#                            concurrency group or resource group is named after)
#   TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY or TEMPORAL_TLS_CLIENT_CERT_DATA and
#   TEMPORAL_TLS_CLIENT_KEY_DATA (or their _PATH forms), TEMPORAL_TLS_*: the connection, read the way
#                            Temporal's own tools read it
#   MERIDIAN_CODEC_KEYS      the payload keys (id:base64,...), as the workers have them
#
# Exits with Meridian's code: 0 released; 1 the release failed or was aborted; 2 invalid input, usage
# or a refused credential (nothing was started); 3 Temporal or a cluster unreachable (retry: starting
# again is harmless, a repeated start finds the running release).

# A trace would print the values of the variables the checks below read: off, whatever the caller asked.
{ set +x; } 2>/dev/null
set -euo pipefail

meridian=${MERIDIAN:-meridian}
on_github=false
[ "${GITHUB_ACTIONS:-}" = true ] && on_github=true

# A message for a person: an annotation on GitHub Actions, a plain line elsewhere.
say() { # level (error|warning|notice), message
  if [ "$on_github" = true ]; then
    local text=${2//'%'/'%25'}
    printf '::%s::%s\n' "$1" "$text"
    if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ "$1" != warning ]; then printf -- '- %s\n' "$2" >>"$GITHUB_STEP_SUMMARY"; fi
  elif [ "$1" = error ]; then
    printf 'release.sh: error: %s\n' "$2" >&2
  else
    printf 'release.sh: %s\n' "$2"
  fi
}

usage() {
  say error "usage: release.sh <release.yaml> [validate|plan|start]... : fix the pipeline's call; nothing was started"
  exit 2
}

[ $# -ge 1 ] && [ -n "$1" ] || usage
spec=$1
shift
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(validate plan start)
for step in "${steps[@]}"; do
  case $step in validate | plan | start) ;; *) usage ;; esac
done
read -r -a start_args <<<"${MERIDIAN_START_ARGS:-}"

release=""  # release-<app>-<version>, once the spec is known to be valid

# What an exit code of `meridian <step>` means, said once, for a person reading the pipeline's log.
explain() { # step, exit code
  local step=$1 code=$2 what=${release:-the release}
  case $code in
    0) if [ "$step" = start ]; then say notice "release $what succeeded"; fi ;;
    1) say error "release $what failed or was aborted: meridian status $what (or its history in the Web UI) says where and why" ;;
    2) say error "meridian $step refused: invalid input, usage or a credential refused (the error above says which): fix the spec or the credentials; nothing was started" ;;
    3)
      local hint=""
      [ -n "${TEMPORAL_ADDRESS:-}" ] || hint=" (TEMPORAL_ADDRESS is not set, so the local default 127.0.0.1:7233 was tried: set it from the pipeline's secrets)"
      say error "meridian $step: Temporal or a cluster is unreachable$hint: retry: starting again is harmless, a repeated start finds the running release"
      ;;
    126 | 127) say error "cannot run meridian as \"$meridian\": install Meridian (npm ci) or point MERIDIAN at its binary; nothing was started" ;;
    *) say error "meridian $step exited with $code, none of its documented codes (a crash: see its output above and report it)" ;;
  esac
}

run() { # step, meridian arguments...
  local step=$1 code=0
  shift
  [ "$on_github" = true ] && printf '::group::meridian %s\n' "$step"
  "$meridian" "$@" || code=$?
  [ "$on_github" = true ] && printf '::endgroup::\n'
  explain "$step" "$code"
  [ "$code" = 0 ] || exit "$code"
}

# The spec's app and version, checked against what the pipeline expects before anything starts.
identify() {
  local json code=0
  json=$("$meridian" validate -f "$spec" --json 2>/dev/null) || code=$?
  [ "$code" = 0 ] || { run validate validate -f "$spec"; exit "$code"; } # says why, then exits with its code
  local app version
  read -r app version < <(node -e 'const j = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(j.app, j.version)' <<<"$json")
  release="release-$app-$version"
  local expected=${MERIDIAN_EXPECT_VERSION:-}
  expected=${expected#v}
  if [ -n "$expected" ] && [ "$expected" != "$version" ]; then
    say error "$spec is version $version, but the pipeline releases $expected: set metadata.version (and the image tag) in $spec, or release the version it names; nothing was started"
    exit 2
  fi
  if [ -n "${MERIDIAN_EXPECT_APP:-}" ] && [ "$MERIDIAN_EXPECT_APP" != "$app" ]; then
    say error "$spec releases app $app, but this pipeline (and its concurrency group) is for $MERIDIAN_EXPECT_APP: fix metadata.app or the pipeline; nothing was started"
    exit 2
  fi
}

identify
for step in "${steps[@]}"; do
  case $step in
    validate) run validate validate -f "$spec" ;;
    plan) run plan plan -f "$spec" ;;
    start)
      [ -n "${MERIDIAN_CODEC_KEYS:-}${MERIDIAN_CODEC_KEYS_FILE:-}" ] ||
        say warning "MERIDIAN_CODEC_KEYS is not set: this release's payloads go to Temporal unencrypted, and workers that encrypt cannot read them"
      run start start -f "$spec" --wait ${start_args[@]+"${start_args[@]}"}
      ;;
  esac
done
