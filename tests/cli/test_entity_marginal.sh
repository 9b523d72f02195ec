#!/usr/bin/env bash
# Leave-one-entity-out Marginal flows in the program (--entities with --marginal): with one
# entity per individual (a map file id -> id), removing an entity is removing the individual, so
# /flows/entity_marginal/{outflow,inflow,self} equal the individual Marginal flows of the same runs
# (an independent path: train::marginal_flows); with 3 groups, the matrix's row and column sums
# minus the diagonal equal the entity outflows and inflows, 1 and 3 ranks give the same numbers,
# and --merge of two --split-range halves equals one run of all splits.
# Usage: test_entity_marginal.sh <reciprocity binary> <shared data dir> <source dir>
source "$(dirname "$0")/lib.sh" "$@"
py=/usr/bin/python3
"$py" -c 'import h5py' 2>/dev/null || { echo "skip: h5py is not installed for $py"; exit 77; }
[[ -d $data/health ]] || { echo "skip: no health data in $data"; exit 77; }
common=(--dataset diabetes --data "$data/health" --splits 2 --steps 40 --marginal --quiet)

printf 'id,entity\n' > own.csv; printf 'id,entity\n' > three.csv
for i in $(seq 0 441); do echo "$i,$i" >> own.csv; echo "$i,g$((i % 3))" >> three.csv; done
run() { timeout 300 mpirun -n "$1" --oversubscribe "$bin" "${@:2}" > "run$1.log" 2>&1 || { fail "run: ${*:2}"; cat "run$1.log"; }; }
run 2 "${common[@]}" --entities map:own.csv --out own.h5
run 1 "${common[@]}" --entities map:three.csv --out three1.h5
run 3 "${common[@]}" --entities map:three.csv --out three3.h5
run 2 "${common[@]}" --entities map:three.csv --split-range 0:1 --out half0.h5
run 2 "${common[@]}" --entities map:three.csv --split-range 1:2 --out half1.h5
timeout 120 mpirun -n 2 --oversubscribe "$bin" --merge half0.h5 half1.h5 --out merged.h5 --quiet > merge.log 2>&1 || { fail "merge"; cat merge.log; }

check "one entity per individual: entity Marginal = individual Marginal (rel 1e-9)" "$py" - <<'PY'
import h5py, numpy as np, sys
f = h5py.File("own.h5", "r")
names = f.attrs["entity_names"]; names = (names.decode() if isinstance(names, bytes) else names).split("\n")
ids = list(f["/individuals/id"][:])
order = [ids.index(int(n)) for n in names]          # entity e is individual order[e]
worst = 0.0
for kind in ("outflow", "inflow", "self"):
    ent = f["/flows/entity_marginal/" + kind][...]      # [S, R, E]
    ind = f["/flows/marginal/" + kind][...][:, :, order]
    scale = np.abs(ind).max()
    worst = max(worst, np.abs(ent - ind).max() / scale)
print("max relative difference", worst)
sys.exit(0 if worst < 1e-9 and np.abs(f["/flows/marginal/outflow"][...]).max() > 0 else 1)
PY
check "3 groups: matrix sums minus the diagonal = entity flows; 1 = 3 ranks; merge = whole" "$py" - <<'PY'
import h5py, numpy as np, sys
a, b, m = (h5py.File(p, "r") for p in ("three1.h5", "three3.h5", "merged.h5"))
M = a["/flows/entity_marginal/matrix"][...]          # [S, R, E, E]
d = np.diagonal(M, axis1=2, axis2=3)
ok = np.allclose(M.sum(axis=3) - d, a["/flows/entity_marginal/outflow"][...], rtol=1e-12, atol=0)
ok &= np.allclose(M.sum(axis=2) - d, a["/flows/entity_marginal/inflow"][...], rtol=1e-12, atol=0)
ok &= np.allclose(d, a["/flows/entity_marginal/self"][...], rtol=1e-12, atol=0)
for k in ("matrix", "inflow", "outflow", "self"):
    x = a["/flows/entity_marginal/" + k][...]
    ok &= np.allclose(x, b["/flows/entity_marginal/" + k][...], rtol=1e-12, atol=1e-12 * np.abs(x).max())
    ok &= np.array_equal(x, m["/flows/entity_marginal/" + k][...]) or np.allclose(x, m["/flows/entity_marginal/" + k][...], rtol=1e-12)
ok &= a["/runs/marginal_complete"][...].all() and m["/runs/marginal_complete"][...].all()
print("matrix row sums", M[0, 0].sum(axis=1))
sys.exit(0 if ok and np.abs(M).max() > 0 else 1)
PY
finish
