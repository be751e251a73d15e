#!/usr/bin/env bash
# Installs every package soundtrackd needs to build, test and demo on Debian bookworm (as root).
# Idempotent: only what is missing is installed, so a warm machine pays nothing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libsqlite3-dev libspdlog-dev libfmt-dev libtomlplusplus-dev libcli11-dev
  libgtest-dev
  sqlite3 openssl ca-certificates curl procps
  chromium chromium-driver python3-selenium  # the dashboard's browser test
  python3 python3-aiohttp  # bench/run.py and its asyncio reference (the suite runs a smoke run)
  systemd dpkg-dev file  # systemd-analyze checks the unit; cpack runs file and dpkg-shlibdeps for the .deb
  # The fuzz build (scripts/fuzz.sh, test.sh --fuzz) and scripts/lint.sh. libclang-rt-14-dev
  # (libFuzzer, the sanitizer runtimes) is only a Recommends of clang: named explicitly.
  clang libclang-rt-14-dev clang-tidy clang-format
)

# ChromeDriver reaches Chromium's DevTools at "localhost": a minimal root (debootstrap,
# mmdebstrap) has no /etc/hosts, which every installed Debian system has.
if ! getent hosts localhost >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then
    printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >> /etc/hosts
    echo "install-deps: added localhost to /etc/hosts (it had none)"
  else
    echo "install-deps: 'localhost' does not resolve; the browser test will be skipped" >&2
  fi
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root or install them with apt-get" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
