#!/usr/bin/env bash
# One pytest file of tests/python (CTest python.<name>): run_pytest.sh <reciprocity binary> <test_x.py>.
# The package is imported from the source tree's tools/ (PYTHONPATH) and uses the program under
# test ($RECIPROCITY_PROGRAM). Exit 77 (CTest: Skipped) when pytest is absent (Debian
# python3-pytest; tools/install-deps installs it) or when a test of the file skipped itself.
set -u
program=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
/usr/bin/python3 -c 'import pytest' 2>/dev/null || { echo "skip: pytest is not installed (python3-pytest)"; exit 77; }
export RECIPROCITY_PROGRAM=$program
export PYTHONPATH="$(cd "$here/../../tools" && pwd)${PYTHONPATH:+:$PYTHONPATH}"
cd "$(mktemp -d)" || exit 1
trap 'rm -rf "$PWD"' EXIT
out=$(/usr/bin/python3 -m pytest -q -rs -p no:cacheprovider "$here/$2" 2>&1)
rc=$?
echo "$out"
if [[ $rc -eq 0 ]] && grep -qE '[0-9]+ skipped' <<<"$out"; then echo "some tests skipped, so Skipped"; exit 77; fi
exit $rc
