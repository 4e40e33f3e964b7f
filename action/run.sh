#!/usr/bin/env bash
# The one script behind the tokcli GitHub Action (action.yml): install tokcli, then run the
# `estimate` cost gate or `audit`, write the markdown to the job summary, and hand the report's
# path and tokcli's exit code to the next steps. tests/test_action.py runs it locally with the
# variables GitHub sets.
#
# Inputs (environment; action.yml maps its inputs onto them):
#   TOKCLI_COMMAND           estimate | audit                     (default: estimate)
#   TOKCLI_PATHS             files, folders or globs, space separated (default: .)
#   TOKCLI_MODELS            models, separated by spaces or commas (default: config / front matter)
#   TOKCLI_BASE_REF          estimate: git ref to compare with (default: origin/$GITHUB_BASE_REF
#                            on a pull request)
#   TOKCLI_FAIL_ON_INCREASE  estimate: percent rise that fails
#   TOKCLI_MAX_MONTHLY_COST  estimate: monthly USD that fails
#   TOKCLI_FAIL_ON           audit: error | warning | info | never (default: error)
#   TOKCLI_VERSION           git ref of tokcli to install (default: the action's own checkout)
#   TOKCLI_BIN               an installed tokcli to use instead of installing one
# Exit code: tokcli's (0 passed, 1 the gate or audit failed, 2 bad input or setup).
set -uo pipefail

command="${TOKCLI_COMMAND:-estimate}"
read -r -a paths <<<"${TOKCLI_PATHS:-.}"
models="${TOKCLI_MODELS:-}"
read -r -a models <<<"${models//,/ }"
out="${RUNNER_TEMP:-${TMPDIR:-/tmp}}"

fail() {
  echo "::error title=tokcli::$*" >&2
  exit 2
}

install_tokcli() {
  if [[ -n "${TOKCLI_BIN:-}" ]]; then
    command -v "$TOKCLI_BIN" >/dev/null || fail "TOKCLI_BIN=$TOKCLI_BIN is not an executable"
    return
  fi
  # tokcli is not on PyPI: install the action's own checkout (the ref in `uses:`), or the git
  # ref asked for, into a virtual environment of its own.
  local spec="${GITHUB_ACTION_PATH:-}"
  if [[ -n "${TOKCLI_VERSION:-}" ]]; then
    spec="tokcli @ git+https://github.com/tokcli/tokcli@${TOKCLI_VERSION}"
  fi
  [[ -n "$spec" ]] || fail "nothing to install: set TOKCLI_VERSION or GITHUB_ACTION_PATH"
  python3 -m venv "$out/tokcli-venv" && "$out/tokcli-venv/bin/pip" install --quiet "$spec" ||
    fail "could not install $spec"
  TOKCLI_BIN="$out/tokcli-venv/bin/tokcli"
}

model_args=()
for model in "${models[@]}"; do
  model_args+=(--model "$model")
done

run_estimate() {
  local args=(estimate "${paths[@]}" "${model_args[@]}" --format markdown)
  local base="${TOKCLI_BASE_REF:-}"
  if [[ -z "$base" && -n "${GITHUB_BASE_REF:-}" ]]; then
    base="origin/$GITHUB_BASE_REF"
  fi
  [[ -n "$base" ]] && args+=(--base-ref "$base")
  [[ -n "${TOKCLI_FAIL_ON_INCREASE:-}" ]] && args+=(--fail-on-increase "$TOKCLI_FAIL_ON_INCREASE")
  [[ -n "${TOKCLI_MAX_MONTHLY_COST:-}" ]] && args+=(--max-monthly-cost "$TOKCLI_MAX_MONTHLY_COST")
  report="$out/tokcli-estimate.md"
  "$TOKCLI_BIN" "${args[@]}" >"$report"
  code=$?
  summary="$report"
}

run_audit() {
  local args=(audit "${paths[@]}" "${model_args[@]}")
  report="$out/tokcli-audit.sarif"
  summary="$out/tokcli-audit.md"
  "$TOKCLI_BIN" "${args[@]}" --format sarif --fail-on "${TOKCLI_FAIL_ON:-error}" >"$report"
  code=$?
  # The same findings for people, in the job summary; the SARIF run above decides the exit code.
  "$TOKCLI_BIN" "${args[@]}" --format markdown --fail-on never >"$summary" || true
}

case "$command" in
  estimate | audit) ;;
  *) fail "command must be estimate or audit, not '$command'" ;;
esac
[[ -n "${GITHUB_WORKSPACE:-}" ]] && cd "$GITHUB_WORKSPACE"
install_tokcli
"run_$command"

if [[ -n "${GITHUB_STEP_SUMMARY:-}" && -s "$summary" ]]; then
  cat "$summary" >>"$GITHUB_STEP_SUMMARY"
fi
if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
  {
    echo "report=$report"
    echo "summary=$summary"
    echo "exit-code=$code"
  } >>"$GITHUB_OUTPUT"
fi
exit "$code"
