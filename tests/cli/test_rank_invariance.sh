#!/usr/bin/env bash
# The same configuration on 1, 2, 3 and 4 ranks (data-parallel runs, and runs spread over
# groups) must give the same results file contents (relative difference < 1e-9), for the
# recommender (full batch and mini-batch, exact and with TracIn checkpoints) and for a health
# data set.
# Usage: test_rank_invariance.sh <reciprocity binary> <shared data dir> <source dir>
source "$(dirname "$0")/lib.sh" "$@"
set -e

run() {  # run <tag> <np> <args...>
  local tag=$1 np=$2
  shift 2
  mpirun -n "$np" --oversubscribe "$bin" -q --out "$tag.h5" "$@" > "$tag.log" 2>&1 || { cat "$tag.log"; exit 1; }
}

compare() { pycheck runs.same_as "$@"; }  # compare <reference.h5> <other.h5>...: exits (set -e) when they differ

mf="--synthetic-users 60 --synthetic-items 40 --synthetic-ratings 1500 --splits 2 --seeds 2 --steps 60 --learning-rate 1.5"
run mf1 1 $mf
for np in 2 3 4; do run mf$np $np $mf --ranks-per-run $np; done
run mfg4 4 $mf --ranks-per-run 2
run mfg3 3 $mf --ranks-per-run 1
compare mf1.h5 mf2.h5 mf3.h5 mf4.h5 mfg4.h5 mfg3.h5

mb="$mf --batch-fraction 0.3"
run mb1 1 $mb
run mb3 3 $mb --ranks-per-run 3
compare mb1.h5 mb3.h5

# TracIn checkpoints (the G^D part of the reduction only at checkpoint steps), full and mini-batch.
ck="$mf --flow-interval 7"
run ck1 1 $ck
run ck2 2 $ck --ranks-per-run 2
run ck4 4 $ck --ranks-per-run 4
run ckb1 1 $mb --flow-interval 3
run ckb3 3 $mb --flow-interval 3 --ranks-per-run 3
compare ck1.h5 ck2.h5 ck4.h5
compare ckb1.h5 ckb3.h5

if [[ -d $data/health ]]; then
  h="--dataset breast-cancer --data $data/health --splits 4 --steps 50"
  run h1 1 $h
  run h4 4 $h --ranks-per-run 4
  run h2 2 $h --ranks-per-run 1
  compare h1.h5 h4.h5 h2.h5
else
  echo "rank invariance: the recommender ok; the health part skipped (no $data/health), so Skipped"
  exit 77
fi
echo "rank invariance: ok"
