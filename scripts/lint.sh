#!/usr/bin/env bash
# Static checks: clang-tidy (.clang-tidy) on the sources, using a build's compile_commands.json,
# and clang-format (.clang-format) in check mode. Exits non-zero on any finding.
#   scripts/lint.sh [--build DIR] [--format-only | --tidy-only] [FILE...]
# Without FILEs: every .cpp under src/ for clang-tidy, every tracked .cpp/.hpp for clang-format.
set -euo pipefail
cd "$(dirname "$0")/.."

build=build-dev
tidy=yes
format=yes
files=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift ;;
    --format-only) tidy=no ;;
    --tidy-only) format=no ;;
    *) files+=("$1") ;;
  esac
  shift
done

status=0
if [ "$format" = yes ]; then
  if [ ${#files[@]} -gt 0 ]; then format_files=("${files[@]}"); else mapfile -t format_files < <(git ls-files '*.cpp' '*.hpp'); fi
  echo "== clang-format (${#format_files[@]} files)"
  clang-format --dry-run -Werror "${format_files[@]}" || status=1
fi

if [ "$tidy" = yes ]; then
  if [ ! -f "$build/compile_commands.json" ]; then
    echo "lint: $build/compile_commands.json is missing: configure a build first" \
      "(cmake -S . -B $build -G Ninja), or name one with --build DIR" >&2
    exit 2
  fi
  if [ ${#files[@]} -gt 0 ]; then
    tidy_files=()
    for f in "${files[@]}"; do [[ "$f" == *.cpp ]] && tidy_files+=("$f"); done
  else
    mapfile -t tidy_files < <(git ls-files 'src/*.cpp')
  fi
  echo "== clang-tidy (${#tidy_files[@]} files, $build/compile_commands.json)"
  # A GCC build's flags unknown to clang are not findings.
  if [ ${#tidy_files[@]} -gt 0 ]; then
    printf '%s\n' "${tidy_files[@]}" |
      xargs -P "$(nproc)" -n 1 clang-tidy -p "$build" --quiet --extra-arg=-Wno-unknown-warning-option \
        --warnings-as-errors='*' 2>/dev/null || status=1
  fi
fi
exit $status
