#!/usr/bin/env bash
# Builds the cargo-fuzz targets and runs each one for a bounded time, seeded with its committed
# corpus (fuzz/corpus/<target>). Fails on the first crash, panic, timeout or out-of-memory; the
# input that caused it is left in fuzz/artifacts/<target>/.
#
#   fuzz/run.sh                 # every target, 30 s each
#   fuzz/run.sh 300 jwt         # one target, 5 minutes
#   cargo fuzz run jwt          # by hand, for as long as you like (with RUSTC_BOOTSTRAP=1)
#
# New inputs found in a run go to a scratch folder, not into the committed corpus; to keep them,
# merge and minimise: cargo fuzz cmin <target>.
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:-30}"
shift || true

# cargo-fuzz passes nightly-only flags to rustc; this machine has a stable toolchain only.
export RUSTC_BOOTSTRAP=1
# Where to build (default fuzz/target); CI keeps it outside its fresh clone to reuse it.
if [ -n "${FUZZ_TARGET_DIR:-}" ]; then
  export CARGO_TARGET_DIR="$FUZZ_TARGET_DIR"
fi
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --version 0.13.2
fi

# No sanitizer: the code under test is safe Rust (ASan would halve the executions and find
# nothing safe Rust can do); debug assertions stay on, so integer overflow panics.
build_flags=(--sanitizer none --debug-assertions)

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list)
fi

echo "== building the fuzz targets"
start=$(date +%s)
cargo fuzz build "${build_flags[@]}"
echo "fuzz: built in $(( $(date +%s) - start )) s"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
failed=0
passed=0
for target in "${targets[@]}"; do
  echo "== $target for ${seconds}s"
  mkdir -p "$scratch/$target" "corpus/$target" "artifacts/$target"
  log="$scratch/$target.log"
  # Inputs up to 4 KiB: enough for every grammar here, and for the 100-parameter cap; a
  # single input over 10 s is reported as a hang.
  if cargo fuzz run "${build_flags[@]}" "$target" "$scratch/$target" "corpus/$target" -- \
      -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 >"$log" 2>&1; then
    passed=$((passed + 1))
    runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')"
    cov="$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 || true)"
    echo "fuzz: $target ok: $runs executions in ${seconds}s, $cov, $(ls "$scratch/$target" | wc -l) new inputs"
  else
    failed=$((failed + 1))
    tail -n 40 "$log"
    echo "fuzz: $target FAILED; the input is in fuzz/artifacts/$target/"
  fi
done
echo "fuzz: $passed targets ok, $failed crashed"
[ "$failed" -eq 0 ]
