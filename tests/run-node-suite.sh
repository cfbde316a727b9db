#!/usr/bin/env bash
# Runs node:test suites (tests/<suite>/*.test.mjs) against the built binaries.
set -euo pipefail
cd "$(dirname "$0")"
files=()
for suite in "$@"; do
  for f in "$suite"/*.test.mjs; do [ -e "$f" ] && files+=("$f"); done
done
[ ${#files[@]} -gt 0 ] || { echo "no test files in: $*"; exit 1; }
exec node --test --test-concurrency=2 "${files[@]}"
