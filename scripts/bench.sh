#!/usr/bin/env bash
# Builds soundtrackd in Release (build-bench/), installs the asyncio reference's packages, and
# runs the benchmark scenarios of bench/run.py against the emulator on loopback over HTTPS.
# Prints the table and writes build-bench/bench-results.json.
#   scripts/bench.sh            all six scenarios (about 10 minutes on 2 cores)
#   scripts/bench.sh --smoke    tiny sizes: checks that the harness works (seconds)
#   scripts/bench.sh --only 14  only scenarios 1 and 4
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

bash scripts/install-deps.sh
# The reference implementation is what a user would write: Debian's python3 and aiohttp.
# Only the benchmark needs them, so they are installed here and not by install-deps.sh.
missing=()
for p in python3 python3-aiohttp; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || { echo "bench: missing packages: ${missing[*]}; run as root" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

build=${BENCH_BUILD_DIR:-$root/build-bench}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
echo "== building (Release) in $build"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)" --target soundtrackd soundtrackctl scenario-emulator api-load

echo "== running the benchmark (work files in $build/bench)"
exec /usr/bin/python3 bench/run.py --build "$build" --work "$build/bench" --json "$build/bench-results.json" "$@"
