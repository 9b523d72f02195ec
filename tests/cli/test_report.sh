#!/usr/bin/env bash
# tools/report: the post-processing tool reproduces the engine's printed summary, writes its
# figures, and refuses files it must not summarise.
# Usage: test_report.sh <reciprocity binary> <shared data dir> <source dir>
set -u
bin=$(realpath "$1")
src=$(realpath "$3")
report="$src/tools/report"
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

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
if "$py" - engine.txt out/summary.csv <<'EOF'; then ok "summary.csv matches the engine's summary"; else bad "summary.csv differs from the engine's summary"; fi
import csv, re, sys
engine = open(sys.argv[1]).read()
rows = [r for r in csv.DictReader(open(sys.argv[2])) if r["flow"] == "tracin"]
assert len(rows) == 1, rows
row = rows[0]
checks = {  # engine line label -> csv columns of (single mean, single sd, expectation)
    r"alpha at beta = 0\.75": ("single_alpha_mean", "single_alpha_sd", "expectation_alpha"),
    r"correlation\(inflow, outflow\)": ("single_correlation_mean", "single_correlation_sd", "expectation_correlation"),
    r"fraction negative inflows": ("single_negative_inflow_mean", "single_negative_inflow_sd", "expectation_negative_inflow"),
    r"fraction negative outflows": ("single_negative_outflow_mean", "single_negative_outflow_sd", "expectation_negative_outflow"),
}
bad = 0
for label, cols in checks.items():
    m = re.search(r"^" + label + r"\s+(\S+)\s+(\S+)\s+(\S+)\s*$", engine, re.M)
    assert m, f"no line /{label}/ in the engine output"
    for want, col in zip(m.groups(), cols):
        got = "%.4f" % float(row[col])
        print(f"     {col:32s} engine {want:>8s} report {got:>8s}")
        bad += got != want
m = re.search(r"deployment RMSE (\S+) \(sd (\S+)\), deployment loss (\S+)", engine)
for want, col in zip(m.groups(), ("rmse_mean", "rmse_sd", "deploy_loss")):
    got = "%.4f" % float(row[col])
    print(f"     {col:32s} engine {want:>8s} report {got:>8s}")
    bad += got != want
m = re.search(r"p50 (\S+), p80 (\S+), p95 (\S+)", engine)
for want, col in zip(m.groups(), ("discrepancy_p50", "discrepancy_p80", "discrepancy_p95")):
    bad += "%.3g" % float(row[col]) != want
runs = re.search(r"runs complete: (\d+) of (\d+)", engine).groups()
bad += (row["runs_used"], row["runs_total"]) != runs
sys.exit(bad > 0)
EOF

# (b) every expected figure exists and is a real PNG of reasonable size.
check_pngs() {  # check_pngs <dir> <name>...
  local dir=$1; shift
  for name in "$@"; do
    if "$py" - "$dir/$name" <<'EOF'; then ok "figure $name"; else bad "figure $name missing or not a valid PNG"; fi
import os, struct, sys
p = sys.argv[1]
head = open(p, "rb").read(24)
w, h = struct.unpack(">II", head[16:24])
sys.exit(0 if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR" and w >= 300 and h >= 200
         and os.path.getsize(p) > 10000 else 1)
EOF
  done
}
check_pngs out syn_tracin_scatter.png syn_tracin_reciprocity.png syn_snr.png syn_discrepancy.png
# 2 seeds a split: too few for the spread figure (it needs 5; tests/cli/test_report_figures.sh draws it).
[[ -e out/syn_tracin_spread.png ]] && bad "spread figure drawn from 2 seeds"
for f in summary.md summary.csv summary.json; do [[ -s out/$f ]] || bad "out/$f missing"; done

# --json prints parseable JSON.
if "$report" --json syn.h5 --out out-json 2>/dev/null | "$py" -c 'import json,sys; r=json.load(sys.stdin); assert r[0]["flow"]=="tracin"'; then
  ok "--json prints the table as JSON"
else
  bad "--json output is not the JSON table"
fi

# (c) files that must be refused, with exit status 2, a message and no traceback.
"$py" - <<'EOF'
import h5py, numpy as np, shutil
with h5py.File("other.h5", "w") as f:
    f["x"] = np.arange(3)
shutil.copy("syn.h5", "incomplete.h5")
with h5py.File("incomplete.h5", "a") as f:
    c = f["runs/complete"][...]
    c[0, 1] = 0
    c[2, 0] = 0
    f["runs/complete"][...] = c
shutil.copy("syn.h5", "marginal.h5")
with h5py.File("marginal.h5", "a") as f:   # a stand-in for marginal flows, one run without them
    for side in ("inflow", "outflow", "self"):
        f["flows/marginal/" + side] = 1.1 * f["flows/tracin/" + side][...]
    m = np.ones(f["runs/complete"].shape, np.uint8)
    m[1, 1] = 0
    f["runs/marginal_complete"] = m
EOF
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
   "$py" -c 'import csv,sys; r=next(csv.DictReader(open("partial/summary.csv"))); sys.exit(0 if (r["runs_used"], r["runs_total"]) == ("4", "6") else 1)' &&
   grep -q '4 completed runs of 6' partial.err; then
  ok "--completed-only uses the 4 completed runs of 6"
else
  bad "--completed-only on the incomplete file"; cat partial.err
fi

# Marginal flows, when present, get their own row (over the runs that have them) and figures.
if "$report" marginal.h5 --out marg >/dev/null 2>marg.err &&
   "$py" -c '
import csv, sys
rows = {r["flow"]: r for r in csv.DictReader(open("marg/summary.csv"))}
t, m = rows["tracin"], rows["marginal"]
sys.exit(0 if m["runs_used"] == "5" and t["runs_used"] == "6" and t["expectation_alpha"] != "" else 1)'; then
  ok "marginal flows reported over their 5 runs"
else
  bad "marginal flows"; cat marg.err
fi
check_pngs marg marginal_marginal_scatter.png marginal_marginal_reciprocity.png

echo "$fails failure(s)"
exit $((fails > 0))
