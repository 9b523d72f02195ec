#!/usr/bin/env bash
# SNR of the flow (docs/method.md section 2): on the health data sets individuals are split, so the
# stored /summary/snr_inflow (snr_outflow) is the conditional SNR over the runs where the
# individual is deployed (trains): length N, NaN exactly where fewer than 2 such runs (or sd 0),
# else |mean|/sd (ddof 1) of those runs, checked against numpy with the membership taken from the
# saved split masks. The *_all_runs arrays are the same over all runs; Marginal likewise over its
# runs. tools/report rebuilds the same membership (its split function against the masks) and
# the same SNRs; the recommender keeps all runs; an old file's compacted arrays are replaced.
# Usage: test_summary_snr.sh <reciprocity binary> <shared data dir> <source dir>
set -u
bin=$(realpath "$1")
data=$(realpath -m "$2")
src=$(realpath "$3")
py=/usr/bin/python3
[[ -d "$data/health" ]] || { echo "skip: no health data in $data"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
export REPORT="$src/tools/report"
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
run() {  # run <file> <options...>: the engine, output in <file>.out
  local out=$1; shift
  "$bin" -q "$@" --out "$out" >"$out.out" 2>"$out.err" || { echo "FAIL the engine: $*"; cat "$out.err"; exit 1; }
}

# diabetes: 20 splits x 1 seed, Marginal on the first 6 splits; breast cancer: 2 seeds (mini-batches,
# so the seeds differ), another base seed and training fraction.
run dia.h5 --dataset diabetes --data "$data/health" --splits 20 --steps 20 --save-split-mask --marginal --marginal-splits 6
run bc.h5 --dataset breast-cancer --data "$data/health" --splits 6 --seeds 2 --steps 10 --batch-fraction 0.5 \
  --seed 7 --train-fraction 0.7 --save-split-mask --marginal --marginal-splits 2
run syn.h5 --synthetic-users 30 --synthetic-items 20 --synthetic-ratings 600 --splits 3 --seeds 1 --steps 5 --learning-rate 1

for f in dia.h5 bc.h5; do
  if grep -q 'SNR of inflow  over the runs where deployed (conditional)' "$f.out" &&
     grep -q 'SNR of outflow over the runs where trained  (conditional)' "$f.out" &&
     grep -q 'over all runs, zeros included (extra)' "$f.out"; then
    ok "$f: the printed SNR says conditional, all runs as an extra"
  else
    bad "$f: printed SNR lines"; grep SNR "$f.out"
  fi
done
grep -q 'conditional' syn.h5.out && bad "recommender: the printed SNR should not say conditional" ||
  ok "recommender: SNR across runs, not conditional"

check() {  # check <file>...: stored SNR arrays against numpy, and the report against both
  "$py" - "$@" <<'EOF'
import importlib.machinery, importlib.util, os, sys
import h5py, numpy as np
loader = importlib.machinery.SourceFileLoader("report", os.environ["REPORT"])
spec = importlib.util.spec_from_loader("report", loader)
report = importlib.util.module_from_spec(spec)
loader.exec_module(report)
fails = 0
def check(ok, what):
    global fails
    print(("ok   " if ok else "FAIL ") + what)
    fails += not ok

def snr(values, use):
    """|mean| / sd (ddof 1) of each column over the rows where use; NaN where < 2 rows or sd 0."""
    out = np.full(values.shape[1], np.nan)
    for i in range(values.shape[1]):
        v = values[use[:, i], i]
        if len(v) >= 2 and np.std(v, ddof=1) > 0:
            out[i] = abs(np.mean(v)) / np.std(v, ddof=1)
    return out

def close(a, b):
    return a.shape == b.shape and np.array_equal(np.isnan(a), np.isnan(b)) and \
        np.allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=1e-9, atol=0)

for path in sys.argv[1:]:
    with h5py.File(path, "r") as f:
        S, R, N = f["flows/tracin/inflow"].shape
        s = {k: f["summary"][k][...] for k in f["summary"]}
        split = f.attrs["task"] != "recommender"
        if split:   # the engine's own training masks: one example per individual, in id order
            mask = f["splits/train_mask"][...].astype(bool)
            assert mask.shape == (S, N) and np.array_equal(f["individuals/id"][...], np.arange(N)), mask.shape
            trains = np.repeat(mask, R, axis=0)                 # [runs, N], run = split * R + seed
        else:
            trains = np.ones((S * R, N), bool)
        check(s["snr_conditional"][0] == (1.0 if split else 0.0), f"{path}: /summary/snr_conditional")
        complete = f["runs/complete"][...].astype(bool).ravel()
        kinds = [("tracin", "", complete)]
        if "runs/marginal_complete" in f:
            kinds.append(("marginal", "marginal_", complete & f["runs/marginal_complete"][...].astype(bool).ravel()))
        res = report.load_results(path, path, False)
        if split:
            check(np.array_equal(res.trains, mask), f"{path}: the report's split membership equals /splits/train_mask")
        else:
            check(res.trains is None, f"{path}: the report does not condition the recommender's SNR")
        for kind, p, used in kinds:
            I = f[f"flows/{kind}/inflow"][...].reshape(-1, N)[used]
            O = f[f"flows/{kind}/outflow"][...].reshape(-1, N)[used]
            t = trains[used]
            deployed = ~t if split else t
            want = {"snr_inflow": snr(I, deployed), "snr_outflow": snr(O, t),
                    "snr_inflow_all_runs": snr(I, np.ones_like(t)), "snr_outflow_all_runs": snr(O, np.ones_like(t))}
            few = {"snr_inflow": deployed.sum(0) < 2, "snr_outflow": t.sum(0) < 2}
            st = report.flow_stats(res, kind)
            row = report.table_row(st)
            for name, w in want.items():
                got = s[p + name]
                check(got.shape == (N,), f"{path} {kind}: /summary/{p}{name} has length N = {N} ({got.shape})")
                check(close(got, w), f"{path} {kind}: /summary/{p}{name} = numpy |mean|/sd over the runs "
                      f"({np.isfinite(got).sum()} defined)")
                check(close(getattr(st, name), got), f"{path} {kind}: the report's {name} = the engine's")
                v = got[np.isfinite(got)]
                cols = (f"{name}_p50", f"{name}_above_1", f"{name}_individuals")
                check(np.isclose(row[cols[0]], np.percentile(v, 50), rtol=1e-12) and
                      np.isclose(row[cols[1]], np.mean(v > 1), rtol=1e-12) and row[cols[2]] == len(v),
                      f"{path} {kind}: report columns {', '.join(cols)}")
                if name in few:
                    nan = np.isnan(got)
                    sd0 = nan & ~few[name]      # 2 or more runs but sd 0 (a flow that never varies)
                    check(np.array_equal(nan & few[name], few[name]) and not sd0.any(),
                          f"{path} {kind}: {name} NaN exactly where fewer than 2 runs "
                          f"({few[name].sum()} individuals)")
            check(row["snr_conditional"] == split, f"{path} {kind}: report column snr_conditional")
            if split and kind == "tracin":   # the test sees both kinds of individual
                check(few["snr_inflow"].any() and (~few["snr_inflow"]).any(),
                      f"{path}: some individuals deployed in fewer than 2 runs, some in more")
            if not split:
                check(close(s[p + "snr_inflow"], s[p + "snr_inflow_all_runs"]),
                      f"{path} {kind}: recommender: conditional SNR = all runs")
sys.exit(fails > 0)
EOF
}
check dia.h5 bc.h5 syn.h5 || fails=$((fails + 1))

# A file summarised before the SNR arrays were per individual: compacted arrays, no *_all_runs.
# --summarize rewrites them; the report reads it.
"$py" - <<'EOF'
import h5py, numpy as np
with h5py.File("dia.h5", "a") as f:
    for k in list(f["summary"]):
        if "snr" in k:
            v = f["summary"][k][...]
            del f["summary"][k]
            if not k.endswith("all_runs") and k != "snr_conditional":
                f["summary"][k] = v[np.isfinite(v)]
EOF
if "$bin" --summarize dia.h5 >resum.out 2>resum.err && check dia.h5 >resum.check; then
  ok "an old file: --summarize rewrites the SNR arrays per individual"
else
  bad "--summarize of an old file"; cat resum.err; grep FAIL resum.check
fi
if "$src/tools/report" --no-plots dia.h5 --out rep >/dev/null 2>rep.err; then ok "tools/report reads it"; else bad "tools/report"; cat rep.err; fi
if "$src/tools/report" bc.h5 --out plots >/dev/null 2>plots.err && [[ -s plots/bc_snr.png ]]; then
  ok "tools/report draws the conditional SNR figure"
else
  bad "tools/report figures"; cat plots.err
fi

echo "$fails failure(s)"
exit $((fails > 0))
