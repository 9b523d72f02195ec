#!/usr/bin/env bash
# SNR of the flow (docs/method.md section 2): on the health data sets individuals are split, so the
# stored /summary/snr_inflow (snr_outflow) is the conditional SNR over the runs where the
# individual is deployed (trains): length N, NaN exactly where fewer than 2 such runs (or sd 0),
# else |mean|/sd (ddof 1) of those runs, checked against numpy with the membership taken from the
# saved split masks. The *_all_runs arrays are the same over all runs; Marginal likewise over its
# runs. tools/report reads the engine's SNR (its columns: their percentiles); the recommender
# keeps all runs; an old file's compacted arrays are replaced by --summarize, and the report of
# such a file summarises a copy.
# Usage: test_summary_snr.sh <reciprocity binary> <shared data dir> <source dir>
[[ -d "$2/health" ]] || { echo "skip: no health data in $2"; exit 77; }
source "$(dirname "$0")/lib.sh" "$@"
ok() { echo "ok   $*"; }
bad() { fail "$*"; }
run() {  # run <file> <options...>: the engine, output in <file>.out
  local out=$1; shift
  "$bin" -q "$@" --out "$out" >"$out.out" 2>"$out.err" || { echo "FAIL the engine: $*"; cat "$out.err"; exit 1; }
}

# diabetes: 20 splits x 1 seed, Marginal on the first 6 splits; breast cancer: 2 seeds (mini-batches,
# so the seeds differ), another base seed and training fraction.
run dia.h5 --dataset diabetes --data "$data/health" --splits 20 --steps 20 --save-split-mask --marginal --marginal-splits 6
run bc.h5 --dataset breast-cancer --data "$data/health" --splits 6 --seeds 2 --steps 10 --batch-fraction 0.5 \
  --seed 7 --train-fraction 0.7 --save-split-mask --marginal --marginal-splits 2
run syn.h5 --synthetic-users 30 --synthetic-items 20 --synthetic-ratings 600 --splits 3 --seeds 1 --steps 5 --learning-rate 1

for f in dia.h5 bc.h5; do
  if grep -q 'SNR of inflow  over the runs where deployed (conditional)' "$f.out" &&
     grep -q 'SNR of outflow over the runs where trained  (conditional)' "$f.out" &&
     grep -q 'over all runs, zeros included (extra)' "$f.out"; then
    ok "$f: the printed SNR says conditional, all runs as an extra"
  else
    bad "$f: printed SNR lines"; grep SNR "$f.out"
  fi
done
grep -q 'conditional' syn.h5.out && bad "recommender: the printed SNR should not say conditional" ||
  ok "recommender: SNR across runs, not conditional"

snr_check() { pycheck summary.snr_agrees "$@"; }  # stored SNR arrays against numpy, the report against both
snr_check dia.h5 bc.h5 syn.h5 || fails=$((fails + 1))

# A file summarised before the SNR arrays were per individual: compacted arrays, no *_all_runs.
# --summarize rewrites them; the report reads it.
cp dia.h5 old.h5
pycheck files.compact_snr old.h5 || bad "compacting the SNR arrays"
if "$src/tools/report" --no-plots old.h5 --out rep-old >/dev/null 2>rep-old.err &&
   grep -q 'its /summary is without the figures .*temporary copy' rep-old.err; then
  ok "the report of the old file summarises a copy"
else
  bad "the report of the old file"; cat rep-old.err
fi
pycheck files.compact_snr dia.h5 || bad "compacting the SNR arrays"
if "$bin" --summarize dia.h5 >resum.out 2>resum.err && snr_check dia.h5 >resum.check; then
  ok "an old file: --summarize rewrites the SNR arrays per individual"
else
  bad "--summarize of an old file"; cat resum.err; grep FAIL resum.check
fi
if "$src/tools/report" --no-plots dia.h5 --out rep >/dev/null 2>rep.err; then ok "tools/report reads it"; else bad "tools/report"; cat rep.err; fi
if "$src/tools/report" bc.h5 --out plots >/dev/null 2>plots.err && [[ -s plots/bc_snr.png ]]; then
  ok "tools/report draws the conditional SNR figure"
else
  bad "tools/report figures"; cat plots.err
fi

cmp -s <(sed s/old.h5/dia.h5/ rep-old/summary.csv) rep/summary.csv && ok "the old file's report equals the new one's" ||
  bad "the old file's report differs from the report after --summarize"
finish
