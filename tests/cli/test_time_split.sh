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
pycheck regimes.timed_ratings u.data || fail "writing u.data"
sweep=(--dataset movielens --data u.data --seeds 2 --steps 20 --learning-rate 1 --embedding-dim 3 --init-scale 0.3 -q)

for order in time time-per-user; do
  if ! "$bin" "${sweep[@]}" --split-order "$order" --marginal --out "$order.1.h5" > "$order.1.log" 2>&1 ||
     ! mpirun -n 3 --oversubscribe "$bin" "${sweep[@]}" --split-order "$order" --marginal --out "$order.3.h5" > "$order.3.log" 2>&1; then
    fail "--split-order $order: a run failed"; tail -3 "$order".*.log; continue
  fi
  if out=$(compare "$order.1.h5" "$order.3.h5"); then echo "ok   --split-order $order: 1 and 3 ranks agree ($out)"
  else fail "--split-order $order: 1 and 3 ranks differ: $out"; fi
  if out=$(pycheck regimes.time_split "$order.1.h5" "$order"); then echo "ok   --split-order $order: $out"; else fail "--split-order $order: $out"; fi
done

# Refusals (exit 2, the option named: lib.sh refused_option).
refused_option "--resume with another --split-order" "split-order" "${sweep[@]}" --split-order time-per-user --marginal --resume --out time.1.h5
refused_option "--split-order on data without timestamps" "option --split-order" --dataset synthetic --split-order time --out x.h5
refused_option "--split-order time with --splits 3" "option --splits" "${sweep[@]}" --split-order time --splits 3 --out x.h5
refused_option "--split-order time with --save-split-mask" "option --save-split-mask" "${sweep[@]}" --split-order time --save-split-mask --out x.h5
refused_option "--split-order with an unknown value" "option --split-order" "${sweep[@]}" --split-order later --out x.h5
refused_option "--batches single-pass with --batch-fraction 0.5" "option --batches" "${sweep[@]}" --batches single-pass --batch-fraction 0.5 --out x.h5
finish
