#!/bin/bash
# Time-ordered splits through the program (--split-order time | time-per-user; the exact
# training sets on hand-made data are tests/train/test_time_split.cpp): on a small u.data with
# timestamps (ties included),
# - TracIn and Marginal flows on 1 and 3 ranks agree (compare_results.py: 1e-12 relative);
# - the training set has exactly round(0.8 M) ratings (global cut) or each user's share (per
#   user), as counted independently here from the file's timestamps;
# - /individuals/arrival holds each user's first timestamp (computed here from u.data);
# - --resume refuses another --split-order; --split-order on data without timestamps, with
#   --splits > 1 or with --save-split-mask is refused naming the option (exit 2).
# Usage: test_time_split.sh <reciprocity binary> <shared data dir> <source dir>
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh" "$@"
/usr/bin/python3 -c 'import h5py, numpy' 2> /dev/null || { echo "h5py or numpy missing"; exit 77; }

# 15 users, 12 items, 6 to 12 ratings each (no pair twice), timestamps with ties; users arrive in waves.
/usr/bin/python3 - <<'EOF'
import random
rng = random.Random(7)
with open("u.data", "w") as f:
    for u in range(1, 16):
        start = 880000000 + (u % 5) * 86400
        items = rng.sample(range(1, 13), 6 + u % 7)  # a (user, item) pair is rated once (a repeat is refused)
        for i in items:
            f.write(f"{u}\t{i}\t{rng.randint(1, 5)}\t{start + 3600 * rng.randint(0, 40)}\n")
EOF
sweep=(--dataset movielens --data u.data --seeds 2 --steps 20 --learning-rate 1 --embedding-dim 3 --init-scale 0.3 -q)

for order in time time-per-user; do
  if ! "$bin" "${sweep[@]}" --split-order "$order" --marginal --out "$order.1.h5" > "$order.1.log" 2>&1 ||
     ! mpirun -n 3 --oversubscribe "$bin" "${sweep[@]}" --split-order "$order" --marginal --out "$order.3.h5" > "$order.3.log" 2>&1; then
    fail "--split-order $order: a run failed"; tail -3 "$order".*.log; continue
  fi
  if out=$(compare "$order.1.h5" "$order.3.h5"); then echo "ok   --split-order $order: 1 and 3 ranks agree ($out)"
  else fail "--split-order $order: 1 and 3 ranks differ: $out"; fi
  if out=$(ORDER=$order /usr/bin/python3 - "$order.1.h5" <<'EOF'
import os, sys, h5py, numpy as np
d = np.loadtxt("u.data", dtype=np.int64)
M = len(d)
users, first = [], {}
for u, t in zip(d[:, 0], d[:, 3]):
    if u not in first:
        users.append(u)
        first[u] = t
    first[u] = min(first[u], t)
if os.environ["ORDER"] == "time":
    want = min(max(round(0.8 * M), 1), M - 1)
else:
    want = 0
    for u in users:
        n = int((d[:, 0] == u).sum())
        want += n if n < 2 else min(max(round(0.8 * n), 1), n - 1)
f = h5py.File(sys.argv[1], "r")
got = f["runs/train_examples"][...].ravel()
arrival = f["individuals/arrival"][...]
ids = f["individuals/id"][...]
bad = []
if not np.all(got == want):
    bad.append(f"training ratings {got.tolist()}, expected {want}")
if ids.tolist() != users or arrival.tolist() != [first[u] for u in users]:
    bad.append("arrival times differ from the first timestamps of u.data")
if f.attrs["config_split-order"] not in (os.environ["ORDER"], os.environ["ORDER"].encode()):
    bad.append(f"config_split-order {f.attrs['config_split-order']!r}")
print("; ".join(bad) if bad else f"{want} training ratings of {M} in every run; arrival of {len(users)} users")
sys.exit(1 if bad else 0)
EOF
  ); then echo "ok   --split-order $order: $out"; else fail "--split-order $order: $out"; fi
done

# Refusals (exit 2, the option named: lib.sh refused_option).
refused_option "--resume with another --split-order" "split-order" "${sweep[@]}" --split-order time-per-user --marginal --resume --out time.1.h5
refused_option "--split-order on data without timestamps" "option --split-order" --dataset synthetic --split-order time --out x.h5
refused_option "--split-order time with --splits 3" "option --splits" "${sweep[@]}" --split-order time --splits 3 --out x.h5
refused_option "--split-order time with --save-split-mask" "option --save-split-mask" "${sweep[@]}" --split-order time --save-split-mask --out x.h5
refused_option "--split-order with an unknown value" "option --split-order" "${sweep[@]}" --split-order later --out x.h5
refused_option "--batches single-pass with --batch-fraction 0.5" "option --batches" "${sweep[@]}" --batches single-pass --batch-fraction 0.5 --out x.h5
finish
