#!/usr/bin/env bash
# One definition of every metric: the figures the engine stores under /summary (reciprocity,
# alpha at beta, correlation, negative fractions; single runs and in expectation; TracIn and
# Marginal) equal those tools/report computes, for several beta and numbers of individuals n;
# alpha also equals its definition (the largest alpha with r_i >= alpha for a fraction beta).
# The files are cut from one small synthetic run to the first n individuals, with flows chosen
# to have zeros, ties, opposite signs and negative values.
# Usage: test_metrics_agree.sh <reciprocity binary> <shared data dir> <source dir>
set -u
bin=$(realpath "$1")
src=$(realpath "$3")
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
export REPORT="$src/tools/report"
NS="1 2 3 5 7 10 20"
BETAS="0.5 0.6 0.75 0.8 0.9 0.95 1.0"

if ! "$bin" -q --synthetic-users 20 --synthetic-items 30 --synthetic-ratings 600 --splits 2 --seeds 2 --steps 5 --learning-rate 1 \
    --out base.h5 >base.out 2>base.err; then
  echo "FAIL the engine did not run:"; cat base.err; exit 1
fi

# Files n<n>.h5: the layout of base.h5 cut to n individuals, chosen flows, Marginal flows on 3
# of the 4 runs, and run (1, 1) incomplete.
NS="$NS" "$py" - <<'EOF' || { echo "FAIL writing the test files"; exit 1; }
import os
import h5py, numpy as np
for n in map(int, os.environ["NS"].split()):
    rng = np.random.default_rng(n)
    with h5py.File("base.h5", "r") as f, h5py.File(f"n{n}.h5", "w") as g:
        for k, v in f.attrs.items():
            g.attrs[k] = v
        g.attrs["individuals"] = np.int64(n)
        def copy(name, obj):
            if isinstance(obj, h5py.Dataset) and not name.startswith("summary"):
                data = obj[...]
                if name.startswith("flows/") or name in ("individuals/id", "runs/individual_deploy_loss"):
                    data = data[..., :n]
                g[name] = data
        f.visititems(copy)
        S, R = g["runs/complete"].shape
        for kind in ("tracin", "marginal"):
            I = rng.lognormal(0, 1, (S, R, n)) * rng.choice([1.0, 1.0, 1.0, -1.0], (S, R, n))
            O = I * rng.lognormal(0, 0.7, (S, R, n)) * rng.choice([1.0, 1.0, 1.0, 1.0, -1.0], (S, R, n))
            if n >= 5:
                I[:, :, 1], O[:, :, 1] = I[:, :, 0], O[:, :, 0]     # a tie
                I[0, :, 2] = O[0, :, 2] = 0.0                       # both zero: r = 1
                O[1, :, 3] = 0.0                                    # one zero: r = 0
            for side, v in (("inflow", I), ("outflow", O), ("self", 0.1 * I)):
                name = f"flows/{kind}/{side}"
                if name in g:
                    del g[name]
                g[name] = v
        mc = np.ones((S, R), np.uint8)
        mc[0, 1] = 0
        g["runs/marginal_complete"] = mc
        c = g["runs/complete"][...]
        c[1, 1] = 0
        g["runs/complete"][...] = c
        for name in ("runs/digest", "runs/marginal_digest"):  # flows made up here: no digests
            if name in g:
                del g[name]
EOF

# The engine's summary of a copy of each file for each beta. Each call mostly waits for the MPI
# start-up, so they run a few at a time.
for n in $NS; do
  for b in $BETAS; do
    cp "n$n.h5" "n${n}_b$b.h5"
    echo "n${n}_b$b.h5 $b"
  done
done | xargs -P 6 -n 2 sh -c '"$0" -q --summarize "$1" --beta "$2" >"$1.out" 2>&1 || { cat "$1.out"; exit 1; }' "$bin" ||
  { echo "FAIL the engine's --summarize failed"; exit 1; }

# The engine's stored figures against the report's functions and against the definition.
NS="$NS" BETAS="$BETAS" "$py" - <<'EOF'
import importlib.machinery, importlib.util, math, os, sys
import h5py, numpy as np
loader = importlib.machinery.SourceFileLoader("report", os.environ["REPORT"])
spec = importlib.util.spec_from_loader("report", loader)
report = importlib.util.module_from_spec(spec)
loader.exec_module(report)

def alpha_by_definition(r, beta):
    """The largest alpha among the r_i such that r_i >= alpha for at least a fraction beta."""
    r = np.asarray(r)
    return max(a for a in r if np.count_nonzero(r >= a) >= beta * len(r) - 1e-9)

def same(a, b):
    a, b = np.atleast_1d(np.asarray(a, float)), np.atleast_1d(np.asarray(b, float))
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b)) |
                                              (np.abs(a - b) <= 1e-12 * np.maximum(np.abs(a), np.abs(b)))))

fails = checks = 0
def check(ok, what):
    global fails, checks
    checks += 1
    if not ok:
        fails += 1
        print("FAIL", what)

for n in map(int, os.environ["NS"].split()):
    for b in os.environ["BETAS"].split():
        beta = float(b)
        path = f"n{n}_b{b}.h5"
        res = report.load_results(path, path, True, beta)
        with h5py.File(path, "r") as f:
            e = {k: f["summary"][k][...] for k in f["summary"]}
        check(same(e["beta"], beta), f"{path}: /summary/beta {e['beta']} != {beta}")
        for kind, prefix in (("tracin", ""), ("marginal", "marginal_")):
            st = report.flow_stats(res, kind)
            row = report.table_row(st)
            where = f"{path} {kind}"
            check(same(e[prefix + "runs_used"], len(st.runs)), f"{where}: runs used")
            check(same(e[prefix + "mean_inflow"], st.mean_inflow), f"{where}: mean inflow")
            check(same(e[prefix + "mean_outflow"], st.mean_outflow), f"{where}: mean outflow")
            r = report.reciprocity(st.mean_inflow, st.mean_outflow)
            check(same(e[prefix + "reciprocity"], r), f"{where}: reciprocity {e[prefix + 'reciprocity']} vs {r}")
            # alpha at beta in expectation: engine, report, definition
            a = e[prefix + "alpha"][0]
            check(same(a, st.expectation["alpha"]) and same(a, row["expectation_alpha"]),
                  f"{where}: alpha engine {a!r} report {st.expectation['alpha']!r}")
            check(same(a, alpha_by_definition(e[prefix + "reciprocity"], beta)),
                  f"{where}: alpha engine {a!r} definition {alpha_by_definition(e[prefix + 'reciprocity'], beta)!r}")
            # single runs
            single_alpha = [s["alpha"] for s in st.single]
            check(same(e[prefix + "single_run_alpha"], single_alpha),
                  f"{where}: single-run alpha engine {e[prefix + 'single_run_alpha']} report {single_alpha}")
            for k, (i, o) in enumerate(zip(st.inflow, st.outflow)):
                d = alpha_by_definition(report.reciprocity(i, o), beta)
                check(same(e[prefix + "single_run_alpha"][k], d), f"{where}: single run {k} alpha vs definition {d}")
            for name in ("correlation", "negative_inflow", "negative_outflow"):
                stored = "correlation" if name == "correlation" else name + "_fraction"
                check(same(e[prefix + stored], st.expectation[name]) and same(e[prefix + stored], row[f"expectation_{name}"]),
                      f"{where}: {name} engine {e[prefix + stored]} report {st.expectation[name]}")
                per_run = [s[name] for s in st.single]
                check(same(e[prefix + "single_run_" + stored], per_run), f"{where}: single-run {name}")
                check(same(report.finite_mean(e[prefix + "single_run_" + stored]), row[f"single_{name}_mean"]),
                      f"{where}: mean over runs of {name}")
print(f"{checks - fails} of {checks} checks agree")
sys.exit(fails > 0)
EOF
rc=$?
[[ $rc -eq 0 ]] && echo "ok   engine and report functions agree" || { echo "FAIL engine and report functions disagree"; exit 1; }

# The report's command line gives the same numbers as the engine (summary.json, --beta).
if "$src/tools/report" --completed-only --no-plots --beta 0.8 n10_b0.8.h5 --out rep >/dev/null 2>rep.err &&
   "$py" - <<'EOF'; then echo "ok   tools/report --beta 0.8 matches the engine's /summary"; else echo "FAIL tools/report summary.json"; cat rep.err; exit 1; fi
import json, sys, h5py
rows = {r["flow"]: r for r in json.load(open("rep/summary.json"))}
with h5py.File("n10_b0.8.h5", "r") as f:
    s = f["summary"]
    bad = 0
    for kind, p in (("tracin", ""), ("marginal", "marginal_")):
        for col, name in (("expectation_alpha", "alpha"), ("expectation_correlation", "correlation"),
                          ("expectation_negative_inflow", "negative_inflow_fraction"),
                          ("expectation_negative_outflow", "negative_outflow_fraction")):
            got, want = rows[kind][col], float(s[p + name][0])
            if abs(got - want) > 1e-12 * max(abs(want), 1e-300):
                print(f"FAIL {kind} {col}: report {got!r} engine {want!r}")
                bad += 1
sys.exit(bad > 0)
EOF
exit 0
