#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite through ctest.
#   scripts/test.sh              normal build (build/)
#   scripts/test.sh --sanitize   AddressSanitizer + UndefinedBehaviorSanitizer build (build-sanitize/)
#   scripts/test.sh --fuzz       one clang build (build-fuzz/, ASan+UBSan+libFuzzer): the unit tests
#                                and the security integration tests, each fuzz target 10 s, then
#                                scripts/lint.sh (clang-format and clang-tidy)
set -euo pipefail
cd "$(dirname "$0")/.."

mode=normal
[ "${1:-}" = "--sanitize" ] && mode=sanitize
[ "${1:-}" = "--fuzz" ] && mode=fuzz

# Each phase's time is printed as it ends, and once more together at exit (also on failure).
timings=()
current=""
phase_start=$(date +%s)
phase() {
  local now; now=$(date +%s)
  if [ -n "$current" ]; then
    timings+=("$current: $((now - phase_start))s")
    echo "== $current took $((now - phase_start))s"
  fi
  current=$1
  phase_start=$now
  if [ -n "$current" ]; then echo "== $current"; fi
}
report() {
  local rc=$?
  phase ""
  echo "== phase times: ${timings[*]}"
  exit $rc
}
trap report EXIT

# The integration tests the --fuzz build also runs (ctest -R): hostile answers, TLS, credentials.
security_tests='^(HostileAnswers|OddRows|TlsVerification|CredentialSecrecy)\.'

phase "install dependencies"
if [ "$mode" = sanitize ]; then bash scripts/install-deps.sh --sanitize; else bash scripts/install-deps.sh; fi

export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-2G}
jobs=$(nproc)

if [ "$mode" = sanitize ]; then
  build=build-sanitize
  # GCC, with debug info. (The clang build is --fuzz: clang 14 needs -fno-sanitize=function
  # there, see CMakeLists.txt.)
  cmake_args=(-DCMAKE_BUILD_TYPE=Debug -DSOUNDTRACKD_SANITIZE=ON)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
elif [ "$mode" = fuzz ]; then
  build=build-fuzz
  cmake_args=(-DCMAKE_BUILD_TYPE=Debug -DSOUNDTRACKD_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
else
  build=build
  cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
fi

phase "configure ($build)"
cmake -S . -B "$build" -G Ninja "${cmake_args[@]}" >/dev/null

phase "build"
cmake --build "$build" -j "$jobs"

phase "test"
if [ "$mode" = fuzz ]; then
  # The sanitizer subset: every unit test, and the integration tests about hostile input.
  ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 300 -LE integration
  ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 300 -L integration -R "$security_tests"
  phase "fuzz"
  bash scripts/fuzz.sh 10 --no-build
  # Static checks last, from this clang build's compile_commands.json: a finding fails the run.
  phase "lint"
  bash scripts/lint.sh --build "$build"
  exit 0
fi
# Integration tests start their own emulator on loopback ports; they run in parallel too.
ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 300

