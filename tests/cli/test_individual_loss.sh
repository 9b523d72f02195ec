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
/usr/bin/python3 - <<'PY' || fails=$((fails + 1))
import h5py, numpy as np
bad = 0
for path in ("bc.h5", "mf.h5"):
    f = h5py.File(path, "r")
    L = f["runs/individual_deploy_loss"][...]
    S, R, N = L.shape
    assert N == f["individuals/id"].shape[0]
    total = L.sum(axis=2) / f["runs/deploy_examples"][...]
    d = np.abs(total - f["runs/deploy_loss_final"][...]).max() / np.abs(f["runs/deploy_loss_final"][...]).max()
    print(f"{path}: max relative |sum_i loss_i / |D| - deploy_loss_final| = {d:.2e}")
    bad += d > 1e-12
    bad += (L < 0).any()
    if path == "bc.h5":
        mask = f["splits/train_mask"][...]                  # [S, M], one row per individual here
        zero_where_trains = np.all(L[:, 0, :][mask == 1] == 0)
        positive_where_deployed = np.all(L[:, 0, :][mask == 0] > 0)
        print(f"bc.h5: zero for training individuals {zero_where_trains}, positive for deployed {positive_where_deployed}")
        bad += not (zero_where_trains and positive_where_deployed)
raise SystemExit(1 if bad else 0)
PY
[[ $fails -eq 0 ]] && echo "ok   consistent with the mean deployment loss"
# An old file (no dataset; files before 0.2 have no run digests either): resumes with more
# splits and merges.
cp bc.h5 old.h5
/usr/bin/python3 -c "import h5py; f = h5py.File('old.h5', 'r+'); del f['runs/individual_deploy_loss']; del f['runs/digest']"
if "$bin" -q --dataset breast-cancer --data "$health" --splits 5 --steps 50 --save-split-mask --resume --out old.h5 > r.log 2>&1 &&
   "$bin" -q --merge old.h5 bc.h5 --out merged.h5 > m.log 2>&1 &&
   /usr/bin/python3 -c "import h5py,sys; f=h5py.File('merged.h5','r'); sys.exit(int('runs/individual_deploy_loss' in f or f['runs/complete'][...].sum() != 5))"; then
  echo "ok   old file resumes and merges"
else
  echo "FAIL old file resume/merge"; cat r.log m.log; fails=$((fails + 1))
fi
finish
