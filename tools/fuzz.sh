#!/usr/bin/env bash
# Runs every libFuzzer target of a CONTINUO_FUZZ build for SECONDS each, starting from its
# committed seed corpus (tests/fuzz/corpus/<target>, read only: new inputs go to the build
# directory). A finding fails the run and names the input file that reproduces it.
#   tools/fuzz.sh BUILD_DIR [SECONDS]
set -euo pipefail
build="${1:?usage: tools/fuzz.sh BUILD_DIR [SECONDS]}"
seconds="${2:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
failed=()
for binary in "$build"/tests/fuzz/fuzz_*; do
  [ -x "$binary" ] || continue
  target="$(basename "$binary")"
  work="$build/fuzz-corpus/$target"
  findings="$build/fuzz-findings"
  mkdir -p "$work" "$findings"
  echo "fuzz: $target for ${seconds}s"
  if ! "$binary" -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=2048 \
       -artifact_prefix="$findings/$target-" "$work" "$root/tests/fuzz/corpus/$target" \
       > "$build/fuzz-$target.log" 2>&1; then
    tail -n 40 "$build/fuzz-$target.log"
    failed+=("$target")
  else
    grep -E "stat::number_of_executed_units|stat::new_units_added" "$build/fuzz-$target.log" | sed "s/^/  /"
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in ${failed[*]}: inputs in $build/fuzz-findings; reproduce with $build/tests/fuzz/<target> <file>,"
  echo "      then add the input to tests/fuzz/corpus/<target> and a regression test for the error path"
  exit 1
fi
echo "fuzz: no findings"
