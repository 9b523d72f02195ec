#!/usr/bin/env bash
# /runs/individual_deploy_loss [S, R, N]: each individual's summed deployment loss at the end of
# training. Checked against the run's mean deployment loss (computed by another path, the
# reduced pass sums): sum_i / deploy_examples = deploy_loss_final; zero exactly for individuals
# with no deployment example (health: the training individuals of /splits/train_mask). A file
# written before the dataset existed still resumes and merges (without it).
# Usage: test_individual_loss.sh <reciprocity binary> <shared data dir> <source dir>
[[ -f $2/health/breast_cancer.csv ]] || { echo "skip: no health data in $2/health"; exit 77; }
source "$(dirname "$0")/lib.sh" "$@"
health="$data/health"
mpirun -n 2 --oversubscribe "$bin" -q --dataset breast-cancer --data "$health" --splits 4 --steps 50 --save-split-mask --out bc.h5 > bc.log 2>&1 || { echo "FAIL bc run"; cat bc.log; exit 1; }
mpirun -n 3 --oversubscribe "$bin" -q --synthetic-users 60 --synthetic-items 40 --synthetic-ratings 1500 --splits 2 --seeds 2 --steps 40 --learning-rate 1.5 --ranks-per-run 3 --out mf.h5 > mf.log 2>&1 || { echo "FAIL mf run"; cat mf.log; exit 1; }
pycheck runs.individual_losses bc.h5 mf.h5 || fails=$((fails + 1))
[[ $fails -eq 0 ]] && echo "ok   consistent with the mean deployment loss"
# An old file (no dataset; files before 0.2 have no run digests either): resumes with more
# splits and merges.
cp bc.h5 old.h5
pycheck files.remove old.h5 runs/individual_deploy_loss runs/digest
if "$bin" -q --dataset breast-cancer --data "$health" --splits 5 --steps 50 --save-split-mask --resume --out old.h5 > r.log 2>&1 &&
   "$bin" -q --merge old.h5 bc.h5 --out merged.h5 > m.log 2>&1 &&
   pycheck runs.merged_without merged.h5 runs/individual_deploy_loss 5; then
  echo "ok   old file resumes and merges"
else
  echo "FAIL old file resume/merge"; cat r.log m.log; fails=$((fails + 1))
fi
finish
