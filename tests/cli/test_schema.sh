#!/usr/bin/env bash
# One schema: the files the program writes follow the layout it declares (src/io/schema.cpp,
# printed by `reciprocity --describe schema`, which the Python tools read):
#   - every dataset of a new file (with every optional part: Marginal, split masks, summary,
#     entities, a time-ordered split's arrival) is declared with the same element type,
#     dimensions, units and description, and carries HDF5 dimension scales: the coordinate
#     datasets of its dimensions; every declared dataset present for that configuration is in
#     the file;
#   - every coordinate linked into a group is the dimension's own dataset (a hard link);
#   - every root attribute is declared, with the declared type (numbers as numbers);
#   - `h5dump -H` shows a description, units and dimension list on every dataset.
# src/io/README.md's tables are the program's own output (tests/cli/test_describe.sh).
# Usage: test_schema.sh <reciprocity binary> <shared data dir> <source dir>
source "$(dirname "$0")/lib.sh" "$@"
ok() { echo "ok   $*"; }
bad() { fail "$*"; }

if ! mpirun -n 2 --oversubscribe "$bin" -q --synthetic-users 20 --synthetic-items 15 --synthetic-ratings 300 \
    --splits 2 --seeds 2 --steps 10 --learning-rate 1.5 --marginal --save-split-mask --second-order \
    --shapley permutations --shapley-samples 4 --out full.h5 > full.log 2>&1; then
  echo "FAIL the engine did not run:"; cat full.log; exit 1
fi

# The entity datasets (--entities, with --marginal: also the leave-one-entity-out flows) come
# from a second file.
printf 'id,entity\n' > groups.csv
for u in $(seq 0 19); do echo "$u,group-$((u % 3))"; done >> groups.csv
if ! mpirun -n 2 --oversubscribe "$bin" -q --synthetic-users 20 --synthetic-items 15 --synthetic-ratings 300 \
    --splits 2 --seeds 2 --steps 10 --learning-rate 1.5 --entities map:groups.csv --marginal --shapley exact \
    --second-order --out entities.h5 > entities.log 2>&1; then
  echo "FAIL the engine did not run with --entities:"; cat entities.log; exit 1
fi

# A time-ordered split (--split-order time, on a small u.data with timestamps) adds
# /individuals/arrival.
for u in $(seq 1 12); do for i in $(seq 1 8); do
  echo -e "$u\t$i\t$(( (u * i) % 5 + 1 ))\t$((880000000 + 1000 * u + 37 * i))"
done; done > u.data
if ! "$bin" -q --dataset movielens --data u.data --split-order time --seeds 2 --steps 10 --learning-rate 1 \
    --embedding-dim 3 --out arrival.h5 > arrival.log 2>&1; then
  echo "FAIL the engine did not run with --split-order time:"; cat arrival.log; exit 1
fi

# check_layout FILE PART: the file against the declared layout; PART entities: the entity
# datasets must be present, arrival: /individuals/arrival, full: every other declared dataset.
check_layout() { pycheck layout.file_matches_schema "$@"; }
for args in "full.h5 full" "entities.h5 entities" "arrival.h5 arrival"; do
  if check_layout $args; then ok "$args: the file follows the layout --describe schema declares"
  else bad "$args: the file and --describe schema differ"; fi
done

# h5dump -H: every dataset shows description, units and (unless a scale itself) DIMENSION_LIST.
if h5dump -H full.h5 > header.txt 2>&1 && pycheck layout.h5dump_describes header.txt; then
  ok "h5dump -H shows description, units and dimensions of every dataset"
else
  bad "h5dump -H"
fi

finish
