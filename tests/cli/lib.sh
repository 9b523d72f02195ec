# Shared set-up of the CLI tests: `source "$(dirname "$0")/lib.sh" "$@"` in a test script called as
#   test_x.sh <reciprocity binary> <shared data dir> <source dir>
# sets bin, data and src, runs the test in a fresh temporary directory (removed on exit), and
# provides fail / check / refused_option / compare / pycheck / skip / finish: count failures, print
# "ok"/"FAIL" lines, exit 1 if any failed, else 77 (CTest: Skipped) if a part was skipped, else 0.
# The tests' Python is in tests/cli/checks (pycheck MODULE.CHECK ARG...); the tools' package is on
# PYTHONPATH and the program under test in RECIPROCITY_PROGRAM (tools/reciprocity_tools uses it).
set -u
cli_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=$(realpath "$1")
data=$(realpath -m "$2")
src=${3:+$(realpath -m "$3")}
export RECIPROCITY_PROGRAM=$bin
export PYTHONPATH="$(cd "$cli_dir/../../tools" && pwd)${PYTHONPATH:+:$PYTHONPATH}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
check() {  # check <name> <command...>: the command must succeed
  local name=$1
  shift
  if "$@"; then echo "ok   $name"; else fail "$name"; fi
}
refused_option() {  # refused_option <name> <pattern> <args...>: "$bin" <args> must exit 2 with <pattern> in its output
  local name=$1 pattern=$2
  shift 2
  "$bin" "$@" > r.log 2>&1
  local rc=$?
  if [[ $rc -eq 2 ]] && grep -q -- "$pattern" r.log; then echo "ok   refused: $name"
  else fail "$name: exit $rc, $(head -2 r.log)"; fi
}
# compare <reference.h5> <file.h5> [partial]: tests/cli/compare_results.py.
compare() { /usr/bin/python3 "$cli_dir/compare_results.py" "$@"; }
# pycheck <module>.<check> [args...]: a check of tests/cli/checks (its exit status: 0 when it holds).
pycheck() { /usr/bin/python3 "$cli_dir/checks" "$@"; }
skipped=()
skip() { echo "skip $*"; skipped+=("$*"); }  # skip <what and why>: a part that cannot run here
finish() {
  echo "$fails failure(s)"
  ((fails > 0)) && exit 1
  ((${#skipped[@]} > 0)) && { echo "not all checked, so Skipped: ${#skipped[@]} part(s) skipped"; exit 77; }
  exit 0
}
