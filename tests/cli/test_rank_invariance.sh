#!/usr/bin/env bash
# The same configuration on 1, 2, 3 and 4 ranks (data-parallel runs, and runs spread over
# groups) must give the same results file contents (relative difference < 1e-9), for the
# recommender (full batch and mini-batch, exact and with TracIn checkpoints) and for a health
# data set.
# Usage: test_rank_invariance.sh <reciprocity binary> <shared data dir> <source dir>
set -eu
bin=$(realpath "$1")
data=$(realpath -m "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

run() {  # run <tag> <np> <args...>
  local tag=$1 np=$2
  shift 2
  mpirun -n "$np" --oversubscribe "$bin" -q --out "$tag.h5" "$@" > "$tag.log" 2>&1 || { cat "$tag.log"; exit 1; }
}

compare() {  # compare <reference.h5> <other.h5>...
  /usr/bin/python3 - "$@" <<'PY'
import sys, h5py, numpy as np
ref = h5py.File(sys.argv[1], "r")
names = []
ref.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
# Run digests are CRCs of rows that agree to 1e-9, not bit for bit: each file's own are checked
# against its rows by the program and the Python reader.
names = [n for n in names if not n.endswith("digest")]
bad = 0
for path in sys.argv[2:]:
    f = h5py.File(path, "r")
    for n in names:
        a, b = ref[n][...], f[n][...]
        if a.shape != b.shape:
            print(f"FAIL {path}:{n} shape {b.shape} != {a.shape}"); bad += 1; continue
        a, b = a.astype(float), b.astype(float)
        same_nan = np.array_equal(np.isnan(a), np.isnan(b))
        a, b = np.nan_to_num(a), np.nan_to_num(b)
        scale = max(np.max(np.abs(a)) if a.size else 0.0, 1e-300)
        d = np.max(np.abs(a - b)) / scale if a.size else 0.0
        if not (d < 1e-9 and same_nan):
            print(f"FAIL {path}:{n} relative difference {d:.3g}"); bad += 1
    for attr in ("configuration",):
        if ref.attrs[attr] != f.attrs[attr]:
            print(f"FAIL {path}: attribute {attr} differs"); bad += 1
    print(f"compared {len(names)} datasets of {path} with {sys.argv[1]}")
sys.exit(1 if bad else 0)
PY
}

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
