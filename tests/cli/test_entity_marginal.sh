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

check "one entity per individual: entity Marginal = individual Marginal (rel 1e-9)" pycheck regimes.entity_marginal_is_individual own.h5
check "3 groups: matrix sums minus the diagonal = entity flows; 1 = 3 ranks; merge = whole" \
  pycheck regimes.entity_marginal_groups three1.h5 three3.h5 merged.h5
finish
