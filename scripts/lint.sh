#!/usr/bin/env bash
# Static checks: clang-tidy (.clang-tidy) on the sources, using a build's compile_commands.json,
# and clang-format (.clang-format) in check mode. Exits non-zero on any finding.
#   scripts/lint.sh [--build DIR] [--format-only | --tidy-only] [FILE...]
# Without FILEs: every .cpp under src/ for clang-tidy (the include/soundtrackd headers they reach
# are checked too, see HeaderFilterRegex), every tracked .cpp/.hpp for clang-format. tests/ is
# formatted but not tidied by default: it would more than double the ~4 min (2 cores) clang-tidy
# takes on src/ for findings that matter less in test code; name test files to check them.
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

# The tracked sources matching the patterns; outside a git checkout (an unpacked tarball),
# every such file under the tree. An empty list is an error, never a silent pass.
sources() {
  local list
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    list=$(git ls-files "$@")
  else
    list=$(for p in "$@"; do find . -path ./build\* -prune -o -path "./$p" -type f -print; done | sed 's|^\./||' | sort)
  fi
  if [ -z "$list" ]; then
    echo "lint: no files match $*" >&2
    exit 2
  fi
  printf '%s\n' "$list"
}

status=0
if [ "$format" = yes ]; then
  if [ ${#files[@]} -gt 0 ]; then format_files=("${files[@]}"); else mapfile -t format_files < <(sources '*.cpp' '*.hpp'); fi
  [ ${#format_files[@]} -gt 0 ] || exit 2
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
    mapfile -t tidy_files < <(sources 'src/*.cpp')
    [ ${#tidy_files[@]} -gt 0 ] || exit 2
  fi
  echo "== clang-tidy (${#tidy_files[@]} files, $build/compile_commands.json)"
  # A GCC build's flags unknown to clang are not findings.
  if [ ${#tidy_files[@]} -gt 0 ]; then
    printf '%s\n' "${tidy_files[@]}" |
      xargs -P "$(nproc)" -n 1 clang-tidy -p "$build" --quiet --extra-arg=-Wno-unknown-warning-option \
        --warnings-as-errors='*' 2>/dev/null || status=1
  fi
fi
[ $status -eq 0 ] || echo "lint: findings above (clang-format: run clang-format -i on the file;" \
  "clang-tidy: fix the code, or see .clang-tidy for what is off and why)" >&2
exit $status
