#!/bin/bash
# Clipped and noised gradients through the program (--clip, --noise-multiplier; the flows
# against a naive pairwise clipped TracIn and brute-force retraining are tests/train/test_flows.cpp
# and test_marginal.cpp "[clip]"):
# - TracIn and Marginal flows with clipping and noise agree on 1 and 3 ranks (compare_results.py:
#   1e-12 relative), for matrix factorisation (synthetic) and linear regression (a small csv);
# - a --clip above every gradient norm writes the same flows as no clipping, bit for bit;
# - clipping changes the flows (C below most norms), and the file records config_clip and
#   config_noise-multiplier as numbers;
# - --resume refuses another --clip or --noise-multiplier, and a file without them resumed with
#   --clip; bad values are refused naming the option (exit 2).
# Usage: test_clip.sh <reciprocity binary> <shared data dir> <source dir>
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh" "$@"
/usr/bin/python3 -c 'import h5py, numpy' 2> /dev/null || { echo "h5py or numpy missing"; exit 77; }

pycheck regimes.clip_csv small.csv || fail "writing small.csv"
mf=(--dataset synthetic --synthetic-users 30 --synthetic-items 20 --synthetic-ratings 500 --splits 2 --seeds 1
    --steps 30 --learning-rate 1 --embedding-dim 3 --marginal -q)
lin=(--dataset csv --model linear --data small.csv --splits 3 --seeds 1 --steps 40 --learning-rate 0.1 --marginal -q)
noisy=(--clip 0.5 --noise-multiplier 0.8)
huge=(--clip 1e300)

for set in mf lin; do
  declare -n args=$set
  for variant in noisy huge; do
    declare -n clip=$variant
    if ! "$bin" "${args[@]}" "${clip[@]}" --out "$set.$variant.h5" > "$set.$variant.1.log" 2>&1 ||
       ! mpirun -n 3 --oversubscribe "$bin" "${args[@]}" "${clip[@]}" --out "$set.$variant.3.h5" > "$set.$variant.3.log" 2>&1; then
      fail "$set ${clip[*]}: a run failed"; tail -3 "$set.$variant".*.log; continue
    fi
    if out=$(compare "$set.$variant.h5" "$set.$variant.3.h5"); then echo "ok   $set ${clip[*]}: 1 and 3 ranks agree ($out)"
    else fail "$set ${clip[*]}: 1 and 3 ranks differ: $out"; fi
  done
  "$bin" "${args[@]}" --out "$set.none.h5" > "$set.none.log" 2>&1 || { fail "$set: the unclipped run failed"; continue; }
  if out=$(pycheck regimes.clip_effects "$set.none.h5" "$set.huge.h5" "$set.noisy.h5"); then echo "ok   $set: $out"
  else fail "$set: $out"; fi
done

refused_option "--resume with another --clip" "clip" "${lin[@]}" --clip 0.7 --noise-multiplier 0.8 --resume --out lin.noisy.h5
refused_option "--resume with another --noise-multiplier" "noise-multiplier" "${lin[@]}" --clip 0.5 --resume --out lin.noisy.h5
refused_option "--resume of an unclipped file with --clip" "clip" "${lin[@]}" --clip 0.5 --resume --out lin.none.h5
refused_option "--noise-multiplier without --clip" "option --noise-multiplier" "${lin[@]}" --noise-multiplier 1 --out x.h5
refused_option "a negative --clip" "option --clip" "${lin[@]}" --clip -1 --out x.h5
refused_option "a NaN --clip" "option --clip" "${lin[@]}" --clip nan --out x.h5
refused_option "a negative --noise-multiplier" "option --noise-multiplier" "${lin[@]}" --clip 1 --noise-multiplier -0.5 --out x.h5
finish
