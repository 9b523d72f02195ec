#!/usr/bin/env bash
# Shapley flows by retraining through the program (--shapley; docs/method.md, "Shapley flows by
# retraining"). On a synthetic population of 10 individuals:
#   - players = individuals and players = entities of one individual each (a map id -> id) are the
#     same game computed along two paths (the individual rows and the entity matrix): equal;
#   - the exact flows (all 1,023 coalitions) against 400 sampled orderings: every flow within 4
#     standard errors (fixed seed), and the standard errors written (0 where exact);
#   - 1 and 2 ranks give the same numbers, and --merge of two --split-range halves equals the whole;
#   - refused before any file: exact with more than 14 players, --model knn.
# Usage: test_shapley.sh <reciprocity binary> <shared data dir> <source dir>
source "$(dirname "$0")/lib.sh" "$@"
py=/usr/bin/python3
"$py" -c 'import h5py' 2>/dev/null || { echo "skip: h5py is not installed for $py"; exit 77; }
common=(--synthetic-users 10 --synthetic-items 12 --synthetic-ratings 160 --splits 2 --seeds 1 --steps 20
        --learning-rate 1.5 --shapley-splits 0 --quiet)
printf 'id,entity\n' > own.csv
for i in $(seq 0 9); do echo "$i,$i" >> own.csv; done
run() { timeout 600 mpirun -n "$1" --oversubscribe "$bin" "${@:2}" > "run$1.log" 2>&1 || { fail "run: ${*:2}"; tail -3 "run$1.log"; }; }
run 1 "${common[@]}" --shapley exact --out exact1.h5
run 2 "${common[@]}" --shapley exact --out exact2.h5
run 2 "${common[@]}" --shapley exact --entities map:own.csv --out own.h5
run 2 "${common[@]}" --shapley permutations --shapley-samples 400 --out perm.h5
run 2 "${common[@]}" --shapley exact --split-range 0:1 --out half0.h5
run 2 "${common[@]}" --shapley exact --split-range 1:2 --out half1.h5
timeout 120 mpirun -n 2 --oversubscribe "$bin" --merge half0.h5 half1.h5 --out merged.h5 --quiet > merge.log 2>&1 ||
  { fail "merge"; cat merge.log; }

check "players = individuals and = one-individual entities: the same flows (rel 1e-12)" "$py" - <<'PY'
import h5py, numpy as np, sys
f, g = h5py.File("exact2.h5", "r"), h5py.File("own.h5", "r")
names = g.attrs["entity_names"]; names = (names.decode() if isinstance(names, bytes) else names).split("\n")
ids = list(g["/individuals/id"][:])
order = [ids.index(int(n)) for n in names]             # entity e is individual order[e]
worst = 0.0
for kind in ("inflow", "outflow", "self"):
    ind = f["/flows/shapley/" + kind][...][:, :, order]  # [S, R, E]
    ent = g["/flows/entity_shapley/" + kind][...]
    worst = max(worst, np.abs(ind - ent).max() / np.abs(ind).max())
nan_rows = np.isnan(g["/flows/shapley/inflow"][...]).all()  # players are entities: no individual rows
print("max relative difference", worst, "; individual rows NaN with entity players:", nan_rows)
sys.exit(0 if worst < 1e-12 and nan_rows and np.abs(f["/flows/shapley/outflow"][...]).max() > 0 else 1)
PY
check "400 sampled orderings within 4 standard errors of the exact flows; exact SE 0" "$py" - <<'PY'
import h5py, numpy as np, sys
e, p = h5py.File("exact2.h5", "r"), h5py.File("perm.h5", "r")
worst, n = 0.0, 0
for kind in ("inflow", "outflow", "self"):
    x, y, se = e["/flows/shapley/" + kind][...], p["/flows/shapley/" + kind][...], p["/flows/shapley/" + kind + "_se"][...]
    assert np.all(e["/flows/shapley/" + kind + "_se"][...] == 0)
    live = se > 0
    z = np.abs(x - y)[live] / se[live]
    worst, n = max(worst, z.max()), n + live.sum()
    # players without training data (deployed only) have no sampling error: equal exactly
    assert np.array_equal(x[~live], y[~live]), kind
print(f"largest |exact - sampled| / SE over {n} flows: {worst:.2f}")
sys.exit(0 if worst < 4 and n > 20 else 1)
PY
check "1 and 2 ranks: the same Shapley flows; --merge of two halves equals the whole" "$py" - <<'PY'
import h5py, numpy as np, sys
a, b, m = (h5py.File(p, "r") for p in ("exact1.h5", "exact2.h5", "merged.h5"))
bad = [k for k in ("inflow", "outflow", "self", "inflow_se")
       if not np.array_equal(a["/flows/shapley/" + k][...], b["/flows/shapley/" + k][...])
       or not np.array_equal(b["/flows/shapley/" + k][...], m["/flows/shapley/" + k][...])]
bad += [] if m["/runs/shapley_complete"][...].all() else ["merged runs not complete"]
print("differ:", bad)
sys.exit(1 if bad else 0)
PY
refused_option "exact Shapley of 40 individuals" "option --shapley exact: split 0 has 40 players" \
  --synthetic-users 40 --synthetic-items 12 --synthetic-ratings 600 --splits 1 --shapley exact --out r.h5
[[ ! -e r.h5 ]] && echo "ok   no file written when refused" || fail "a refused job wrote r.h5"
if [[ -d $data/health ]]; then
  refused_option "Shapley with --model knn" "option --shapley exact: not available with --model knn" \
    --dataset diabetes --data "$data/health" --model knn --shapley exact --out k.h5
else
  skip "the --model knn refusal: no health data in $data"
fi
finish
