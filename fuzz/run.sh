#!/usr/bin/env bash
# Runs libFuzzer targets: fuzz/run.sh BUILD_DIR SECONDS TARGET...
# Each target first runs every committed seed (fuzz/corpus/<target>) and every input earlier
# runs kept (BUILD_DIR/corpus/<target>), then fuzzes for SECONDS. A crash, a leak, undefined
# behaviour or a hang fails the run; the input is kept in BUILD_DIR/artifacts/ and the
# libFuzzer log in BUILD_DIR/fuzz-logs/.
set -euo pipefail
cd "$(dirname "$0")/.."
build=$1 seconds=$2
shift 2
mkdir -p "$build/artifacts" "$build/fuzz-logs"
failed=0
for t in "$@"; do
  bin="$build/fuzz/$t"
  corpus="$build/corpus/$t"
  log="$build/fuzz-logs/$t.log"
  mkdir -p "$corpus"
  start=$(date +%s)
  if UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 nice "$bin" "$corpus" "fuzz/corpus/$t" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$build/artifacts/$t-" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    echo "fuzz $t: ok (${runs:-?} inputs in $(( $(date +%s) - start ))s)"
  else
    echo "fuzz $t: FAILED, log $log:"
    grep -E -A25 'ERROR: |runtime error|Test unit written|SUMMARY' "$log" | head -60
    failed=1
  fi
done
exit $failed
