#!/usr/bin/env bash
# The in-run Shapley flows to second order through the program (--second-order; docs/method.md
# section 13):
#   - linear regression (diabetes) has a quadratic loss, so the second-order prediction of each
#     step's change of the deployment loss is exact: |second-order discrepancy| < 1e-8 at every
#     step, where the first-order one is of order 1e-3;
#   - matrix factorisation (synthetic): the second-order discrepancy's p50 at most a tenth of the
#     first-order one; 1 and 2 ranks give the same flows (rel 1e-12); --merge of two halves equals
#     the whole; one-individual entities give the individual flows (rel 1e-12);
#   - refused with --model knn.
# Usage: test_second_order.sh <reciprocity binary> <shared data dir> <source dir>
source "$(dirname "$0")/lib.sh" "$@"
py=/usr/bin/python3
"$py" -c 'import h5py' 2>/dev/null || { echo "skip: h5py is not installed for $py"; exit 77; }
run() { timeout 600 mpirun -n "$1" --oversubscribe "$bin" "${@:2}" > "run$1.log" 2>&1 || { fail "run: ${*:2}"; tail -3 "run$1.log"; }; }
syn=(--synthetic-users 30 --synthetic-items 20 --synthetic-ratings 600 --splits 2 --seeds 1 --steps 60 --learning-rate 1.5
     --second-order --quiet)
printf 'id,entity\n' > own.csv
for i in $(seq 0 29); do echo "$i,$i" >> own.csv; done
run 1 "${syn[@]}" --out s1.h5
run 2 "${syn[@]}" --out s2.h5
run 2 "${syn[@]}" --entities map:own.csv --out own.h5
run 2 "${syn[@]}" --split-range 0:1 --out h0.h5
run 2 "${syn[@]}" --split-range 1:2 --out h1.h5
timeout 120 mpirun -n 2 --oversubscribe "$bin" --merge h0.h5 h1.h5 --out merged.h5 --quiet > merge.log 2>&1 ||
  { fail "merge"; cat merge.log; }

check "MF: second-order discrepancy p50 at most a tenth of the first-order one" "$py" - <<'PY'
import h5py, numpy as np, sys
f = h5py.File("s2.h5", "r")
d1, d2 = np.abs(f["/runs/discrepancy"][...]), np.abs(f["/runs/second_order_discrepancy"][...])
p1, p2 = np.nanpercentile(d1, 50), np.nanpercentile(d2, 50)
print(f"|discrepancy| p50: first order {p1:.3g}, second order {p2:.3g}")
sys.exit(0 if p2 <= 0.1 * p1 and p1 > 0 else 1)
PY
check "MF: 1 = 2 ranks, merge of halves = whole, one-individual entities = individuals (rel 1e-12)" "$py" - <<'PY'
import h5py, numpy as np, sys
a, b, m, g = (h5py.File(p, "r") for p in ("s1.h5", "s2.h5", "merged.h5", "own.h5"))
names = g.attrs["entity_names"]; names = (names.decode() if isinstance(names, bytes) else names).split("\n")
ids = list(g["/individuals/id"][:]); order = [ids.index(int(n)) for n in names]
worst = 0.0
for k in ("inflow", "outflow", "self"):
    x = a["/flows/shapley_inrun/" + k][...]
    scale = np.abs(x).max()
    for other in (b["/flows/shapley_inrun/" + k][...], m["/flows/shapley_inrun/" + k][...]):
        worst = max(worst, np.abs(other - x).max() / scale)
    worst = max(worst, np.abs(g["/flows/entity_shapley_inrun/" + k][...] - x[:, :, order]).max() / scale)
differs = np.abs(a["/flows/shapley_inrun/inflow"][...] - a["/flows/tracin/inflow"][...]).max()
print("max relative difference", worst, "; second order - TracIn, inflows:", differs)
sys.exit(0 if worst < 1e-12 and differs > 0 else 1)
PY
if [[ -d $data/health ]]; then
  run 2 --dataset diabetes --data "$data/health" --splits 3 --second-order --quiet --out lin.h5
  check "linear regression: the second-order prediction is exact (|d| < 1e-8 at every step)" "$py" - <<'PY'
import h5py, numpy as np, sys
f = h5py.File("lin.h5", "r")
d1, d2 = np.abs(f["/runs/discrepancy"][...]), np.abs(f["/runs/second_order_discrepancy"][...])
print(f"max |second-order discrepancy| {np.nanmax(d2):.3g} over {np.isfinite(d2).sum()} steps; first-order p50 {np.nanpercentile(d1, 50):.3g}")
sys.exit(0 if np.nanmax(d2) < 1e-8 and np.nanpercentile(d1, 50) > 1e-4 and np.isfinite(d2).sum() > 100 else 1)
PY
  refused_option "--second-order with --model knn" "option --second-order: not available with --model knn" \
    --dataset diabetes --data "$data/health" --model knn --second-order --out k.h5
else
  skip "linear regression and kNN parts: no health data in $data"
fi
finish
