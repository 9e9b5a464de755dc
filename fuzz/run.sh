#!/usr/bin/env bash
# Runs every fuzz target for SECS seconds each (default 600), one after the other, and prints each
# target's final libFuzzer stats line. Used by `cargo make fuzz` / `cargo make fuzz-smoke`.
# Committed seeds (made from tests/vectors: test keys only) are read from testdata/<target>/;
# what libFuzzer finds goes to work/<target>/ (ignored by git), crashes to artifacts/<target>/.
# Exits non-zero when any target fails.
# GOLDPLAN_FUZZ_TARGETS picks some targets (space-separated; default all), e.g. to run two
# disjoint halves side by side on two cores.
# GOLDPLAN_FUZZ_SEED fixes libFuzzer's seed (the CI smoke does, so that it explores the same
# inputs on every run instead of failing at random on a finding nobody has looked at yet).
set -uo pipefail
secs="${1:-600}"
cd "$(dirname "$0")"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
nice -n 10 cargo +nightly fuzz build || exit 1
failed=()
TIMEFORMAT='%U %S'
for t in ${GOLDPLAN_FUZZ_TARGETS:-$(cargo +nightly fuzz list)}; do
  mkdir -p "work/$t"
  log="work/$t.log"
  # CPU seconds (user + system) of the run and its children, from bash's `time`.
  { time nice -n 10 cargo +nightly fuzz run "$t" "work/$t" "testdata/$t" -- \
    -max_total_time="$secs" -print_final_stats=1 ${GOLDPLAN_FUZZ_SEED:+-seed="$GOLDPLAN_FUZZ_SEED"} \
    >"$log" 2>&1 ; } 2>"work/$t.cpu"
  status=$?
  cpu=$(awk '{printf "%.0f", $1 + $2}' "work/$t.cpu")
  stats=$(grep -aE '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1)
  [ -n "$stats" ] || stats=$(grep -aE 'cov: [0-9]+' "$log" | tail -n 1)
  execs=$(grep -aE '^stat::number_of_executed_units' "$log" | awk '{print $2}')
  printf '%-22s exit=%s cpu=%ss execs=%s %s\n' "$t" "$status" "${cpu:-?}" "${execs:-?}" "$stats"
  if [ "$status" -ne 0 ]; then
    failed+=("$t")
    grep -aE -A1 'panicked|SUMMARY|Test unit written' "$log" | head -n 8 | cut -c1-400 | cat -v
  fi
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz targets that failed: ${failed[*]} (logs in fuzz/work/, inputs in fuzz/artifacts/)"
  exit 1
fi
