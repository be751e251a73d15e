#!/usr/bin/env bash
# Runs every libFuzzer target for a while (default 10 s each) from the clang build in
# build-fuzz/, starting from the seed corpus in tests/fuzz/corpus/<target>/.
#   scripts/fuzz.sh [seconds] [--no-build] [target...]
# New interesting inputs go to build-fuzz/corpus/<target>/ (not the repo); a crash is saved as
# build-fuzz/artifacts/<target>/crash-* and fails the run: copy it into tests/fuzz/corpus/<target>/
# (replayed by ctest in every build) and add a unit test with the input.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=10
build=yes
targets=()
for arg in "$@"; do
  case "$arg" in
    --no-build) build=no ;;
    ''|*[!0-9]*) targets+=("$arg") ;;
    *) seconds=$arg ;;
  esac
done
[ ${#targets[@]} -eq 0 ] && targets=($(cd tests/fuzz/corpus && ls))

dir=build-fuzz
if [ "$build" = yes ]; then
  export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
  CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSOUNDTRACKD_FUZZ=ON >/dev/null
  cmake --build "$dir" -j "$(nproc)" --target "${targets[@]}"
fi

# Leaks are reported at exit only; a fuzz run stops at the first one like at any crash.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
for target in "${targets[@]}"; do
  mkdir -p "$dir/corpus/$target" "$dir/artifacts/$target"
  echo "== fuzz $target for ${seconds}s"
  # -timeout: an input taking 10 s is a hang worth a report; -rss_limit_mb: a memory blow-up too.
  if ! "$dir/tests/fuzz/$target" "$dir/corpus/$target" "tests/fuzz/corpus/$target" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -artifact_prefix="$dir/artifacts/$target/" -print_final_stats=1 2>"$dir/artifacts/$target/log"; then
    failed+=("$target")
    tail -n 40 "$dir/artifacts/$target/log"
  fi
  grep -E '^stat::number_of_executed_units|^#[0-9]+ *DONE' "$dir/artifacts/$target/log" | tail -n 2 || true
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: crashes in ${failed[*]}; inputs in $dir/artifacts/<target>/" >&2
  exit 1
fi
echo "fuzz: no crash in ${targets[*]}"
