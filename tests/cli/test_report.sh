#!/usr/bin/env bash
# tools/report: the post-processing tool reproduces the engine's printed summary, writes its
# figures, and refuses files it must not summarise.
# Usage: test_report.sh <reciprocity binary> <shared data dir> <source dir>
source "$(dirname "$0")/lib.sh" "$@"
report="$src/tools/report"
ok() { echo "ok   $*"; }
bad() { fail "$*"; }

# 1. A small synthetic results file and the engine's own summary of it.
if ! "$bin" -q --synthetic-users 80 --synthetic-items 50 --synthetic-ratings 2000 --splits 3 --seeds 2 \
    --steps 50 --learning-rate 2 --out syn.h5 >engine.txt 2>engine.err; then
  echo "FAIL the engine did not run:"; cat engine.err; exit 1
fi
grep -q '^alpha at beta' engine.txt || { echo "FAIL no summary in the engine output:"; cat engine.txt; exit 1; }

# 2. The report of the complete file.
if "$report" syn.h5 --out out >report.md 2>report.err; then ok "report exits 0"; else bad "report exit status $?"; cat report.err; fi
grep -q '^| file | flow |' report.md && ok "Markdown table on stdout" || bad "no Markdown table on stdout"
grep -q 'Traceback' report.err && bad "traceback on stderr"

# (a) summary.csv equals the engine's printed figures (4 decimals, as the engine prints them).
if pycheck report.csv_matches_engine engine.txt out/summary.csv; then ok "summary.csv matches the engine's summary"
else bad "summary.csv differs from the engine's summary"; fi

# (b) every expected figure exists and is a real PNG of reasonable size.
check_pngs() {  # check_pngs <dir> <name>...
  local dir=$1; shift
  for name in "$@"; do
    if pycheck report.is_png "$dir/$name"; then ok "figure $name"; else bad "figure $name missing or not a valid PNG"; fi
  done
}
check_pngs out syn_tracin_scatter.png syn_tracin_reciprocity.png syn_snr.png syn_discrepancy.png
# 2 seeds a split: too few for the spread figure (it needs 5; tests/cli/test_report_figures.sh draws it).
[[ -e out/syn_tracin_spread.png ]] && bad "spread figure drawn from 2 seeds"
for f in summary.md summary.csv summary.json; do [[ -s out/$f ]] || bad "out/$f missing"; done

# --json prints parseable JSON.
if "$report" --json syn.h5 --out out-json > table.json 2>/dev/null && pycheck report.json_first_flow table.json tracin; then
  ok "--json prints the table as JSON"
else
  bad "--json output is not the JSON table"
fi

# (c) files that must be refused, with exit status 2, a message and no traceback.
pycheck files.report_inputs syn.h5 || bad "making the inputs"
echo "not a results file" >text.h5

refuse() {  # refuse <name> <message regex> <file> [options]
  local name=$1 pattern=$2; shift 2
  local out rc
  out=$("$report" "$@" --out "refused-$name" 2>&1 >/dev/null)
  rc=$?
  if [[ $rc -ne 2 ]]; then bad "$name: exit status $rc, expected 2"; echo "$out" | tail -3; return; fi
  if grep -q Traceback <<<"$out"; then bad "$name: Python traceback"; return; fi
  if grep -Eq -- "$pattern" <<<"$out"; then ok "$name refused: $out"; else bad "$name: message does not match /$pattern/: $out"; fi
}
refuse non-results-hdf5 'other.h5.*not a reciprocity results file' other.h5
refuse text-file 'text.h5.*not an HDF5 file' text.h5
refuse missing-file 'nowhere.h5.*no such file' nowhere.h5
refuse incomplete-runs 'incomplete.h5.*2 of 6 runs are incomplete.*--completed-only' incomplete.h5
refuse one-bad-of-two 'text.h5' syn.h5 text.h5

# --completed-only accepts the incomplete file and uses its 4 complete runs.
if "$report" --completed-only incomplete.h5 --out partial >/dev/null 2>partial.err &&
   pycheck report.csv_rows partial/summary.csv tracin:runs_used=4,runs_total=6 > partial.check &&
   grep -q '4 completed runs of 6' partial.err; then
  ok "--completed-only uses the 4 completed runs of 6"
else
  bad "--completed-only on the incomplete file"; cat partial.err
fi

# Marginal flows, when present, get their own row (over the runs that have them) and figures.
if "$report" marginal.h5 --out marg >/dev/null 2>marg.err &&
   pycheck report.csv_rows marg/summary.csv tracin:runs_used=6,expectation_alpha=* marginal:runs_used=5 > marg.check; then
  ok "marginal flows reported over their 5 runs"
else
  bad "marginal flows"; cat marg.err
fi
check_pngs marg marginal_marginal_scatter.png marginal_marginal_reciprocity.png

finish
