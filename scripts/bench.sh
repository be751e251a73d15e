#!/usr/bin/env bash
# Builds soundtrackd in Release (build-bench/), with what install-deps.sh installs, and
# runs the benchmark scenarios of bench/run.py against the emulator on loopback over HTTPS.
# Prints the table and writes build-bench/bench-results.json.
#   scripts/bench.sh            all six scenarios (about 6 minutes on 2 cores)
#   scripts/bench.sh --smoke    tiny sizes: checks that the harness works (about a minute)
#   scripts/bench.sh --only 14  only scenarios 1 and 4
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

bash scripts/install-deps.sh  # also python3 and aiohttp for the asyncio reference

build=${BENCH_BUILD_DIR:-$root/build-bench}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
echo "== building (Release) in $build"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)" --target soundtrackd soundtrackctl scenario-emulator api-load

echo "== running the benchmark (work files in $build/bench)"
exec /usr/bin/python3 bench/run.py --build "$build" --work "$build/bench" --json "$build/bench-results.json" "$@"
