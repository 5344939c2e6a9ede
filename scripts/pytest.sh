#!/usr/bin/env bash
# Run pytest in the project's venv with a throwaway HABEAS_HOME. pytest's exit code 5
# ("no tests collected") is a failure here: a suite that runs nothing must not pass.
set -uo pipefail
cd "$(dirname "$0")/.."
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
HABEAS_HOME="$home" .venv/bin/python -m pytest "$@"
status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: failing (exit 5)" >&2
  exit 1
fi
exit "$status"
