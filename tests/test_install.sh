#!/usr/bin/env bash
# `cmake --install` into a temporary prefix (cmake/install.cmake), then the installed tree alone:
# the program's --version (the revision of the sources it was built from), a small results file
# written by the installed program, the installed report of it, the other installed tools, the
# jobs and the documentation, and the tools again after the prefix is moved.
# Usage: test_install.sh <cmake> <build dir> <source dir>. Exit 77 (Skipped) when the sources are
# not a git checkout (the revision cannot be checked); every other part still runs.
set -u
cmake=$1
build=$(realpath "$2")
src=$(realpath "$3")
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
fails=0
skipped=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

prefix=$work/prefix
if "$cmake" --install "$build" --prefix "$prefix" >install.log 2>&1; then ok "cmake --install"
else bad "cmake --install exit $?:"; tail -5 install.log; echo "$fails failure(s)"; exit 1; fi

# 1. The program and its version: the source's commit, read when the program was built.
if "$prefix/bin/reciprocity" --version >version.txt 2>&1; then ok "bin/reciprocity --version"
else bad "bin/reciprocity --version exit $?: $(head -3 version.txt)"; fi
version=$(sed -nE 's/^project\(reciprocity VERSION ([0-9.]+).*/\1/p' "$src/CMakeLists.txt")
grep -q "^reciprocity $version (git " version.txt && ok "version $version" || bad "not version $version: $(cat version.txt)"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
  # The commit only: the tree may have changed since the build (-dirty), the commit may not.
  want=$(git -C "$src" describe --always --abbrev=12)
  have=$(sed -nE 's/.*\(git ([^;]*);.*/\1/p' version.txt)
  if [[ ${have%-dirty} == "$want" ]]; then ok "git revision $have"
  else bad "git revision \"$have\", the sources are at \"$want\" (after a commit, a build must update it; rebuild?)"; fi
else
  echo "skip the git revision: $src is not a git checkout"; skipped=1
fi

# 2. A small results file by the installed program, and the installed report of it.
if ! "$prefix/bin/reciprocity" -q --synthetic-users 60 --synthetic-items 40 --synthetic-ratings 1500 --splits 2 \
    --seeds 2 --steps 30 --learning-rate 2 --out r.h5 >run.txt 2>run.err; then
  bad "the installed program did not run: $(head -3 run.err)"
fi
if "$prefix/bin/reciprocity-report" r.h5 --out report >report.md 2>report.err; then ok "bin/reciprocity-report exits 0"
else bad "bin/reciprocity-report exit $?: $(tail -3 report.err)"; fi
grep -q '^| file | flow |' report.md && ok "the report's Markdown table" || bad "no Markdown table from the report"
# The report's alpha in expectation is the one the program stored under /summary (4 decimals).
if "$py" - r.h5 report/summary.csv <<'EOF'; then ok "the report's alpha equals /summary/alpha"; else bad "the report's alpha differs"; fi
import csv, sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    alpha = float(f["summary/alpha"][()].ravel()[0])
row = next(r for r in csv.DictReader(open(sys.argv[2])) if r["flow"] == "tracin")
assert abs(float(row["expectation_alpha"]) - alpha) < 5e-5, (row["expectation_alpha"], alpha)
EOF

# 3. The other tools (each imports its modules), jobs and documentation.
for tool in gap clip knn; do
  "$prefix/bin/reciprocity-$tool" --help >/dev/null 2>"$tool.err" && ok "bin/reciprocity-$tool --help" ||
    bad "bin/reciprocity-$tool --help: $(tail -2 "$tool.err")"
done
for f in share/reciprocity/jobs/launch.sh share/reciprocity/jobs/movielens.sbatch; do
  [[ -s $prefix/$f ]] && ok "$f" || bad "$f is not installed"
done
for f in README.md docs/options.md docs/method.md src/io/README.md tools/README.md; do
  [[ -s $prefix/share/doc/reciprocity/$f ]] && ok "share/doc/reciprocity/$f" || bad "share/doc/reciprocity/$f missing"
done
# A Python package of tools/ (a directory with __main__.py) runs as `python3 -m` with libexec on the path.
for main in "$prefix"/libexec/reciprocity/*/__main__.py; do
  [[ -f $main ]] || continue
  package=$(basename "$(dirname "$main")")
  if PYTHONPATH=$prefix/libexec/reciprocity "$py" -m "$package" report r.h5 --out report-m >/dev/null 2>m.err; then
    ok "python3 -m $package report"
  else bad "python3 -m $package report: $(tail -2 m.err)"; fi
done

# 4. A moved prefix: the tools find their modules from where they are.
mv "$prefix" "$work/moved"
"$work/moved/bin/reciprocity-report" r.h5 --out report2 >/dev/null 2>report2.err && ok "moved prefix: the report runs" ||
  bad "moved prefix: reciprocity-report: $(tail -2 report2.err)"

echo "$fails failure(s)"
((fails > 0)) && exit 1
((skipped)) && exit 77
exit 0
