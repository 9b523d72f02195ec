#!/usr/bin/env bash
# tools/report's figures are fit for a paper: on small files of both kinds (a recommender, where
# every user trains and is deployed in a run, and a csv regression, where individuals are split,
# with Marginal flows), every figure is drawn with RECIPROCITY_REPORT_CHECK=1, under which the
# report checks with matplotlib that no legend's bounding box holds a data point and no two tick
# labels of an axis overlap (exit 3 and a "report: layout:" line otherwise). Also: the checker
# itself finds a legend put over data and crowded tick labels; the spread figure needs 5 seeds;
# --gallery writes the contact sheet; the single-run reciprocity histogram of split individuals
# is replaced by a note.
# Usage: test_report_figures.sh <reciprocity binary> <shared data dir> <source dir>
source "$(dirname "$0")/lib.sh" "$@"
report="$src/tools/report"
py=/usr/bin/python3
"$py" -c 'import matplotlib, h5py, numpy' 2>/dev/null || { skip "matplotlib, h5py or numpy missing"; finish; }

# A recommender: 1 split x 5 seeds (the spread figure's minimum), and 1 x 2 (too few for it).
"$bin" -q --synthetic-users 80 --synthetic-items 50 --synthetic-ratings 2000 --splits 1 --seeds 5 \
  --steps 50 --learning-rate 2 --out syn.h5 >syn.log 2>&1 || { fail "synthetic run: $(tail -3 syn.log)"; finish; }
"$bin" -q --synthetic-users 80 --synthetic-items 50 --synthetic-ratings 2000 --splits 1 --seeds 2 \
  --steps 50 --learning-rate 2 --out few.h5 >few.log 2>&1 || { fail "synthetic run (2 seeds): $(tail -3 few.log)"; finish; }
# A regression on individuals (split: each trains or is deployed in a run), with Marginal flows.
pycheck files.regression_csv reg.csv || fail "writing reg.csv"
"$bin" -q --dataset csv --data reg.csv --model linear --splits 8 --steps 40 --learning-rate 0.1 --marginal \
  --out reg.h5 >reg.log 2>&1 || { fail "csv run: $(tail -3 reg.log)"; finish; }

RECIPROCITY_REPORT_CHECK=1 "$report" syn.h5 few.h5 reg.h5 --out rep --gallery >rep.md 2>rep.err
rc=$?
if [[ $rc -eq 0 ]] && ! grep -q 'report: layout:' rep.err; then echo "ok   every figure: no legend over data, no overlapping tick labels"
else fail "layout (exit $rc): $(grep -E 'layout|Traceback|Error' rep.err | head -5)"; fi
n=$(ls rep/*.png 2>/dev/null | wc -l)
check "figures drawn ($n)" test "$n" -ge 12
check "gallery.png written" test -s rep/gallery.png
check "spread drawn with 5 seeds" test -s rep/syn_tracin_spread.png
check "no spread with 2 seeds" test ! -e rep/few_tracin_spread.png
check "the skipped spread is said" grep -q 'few.h5: TracIn per-individual spread skipped: no split with 5' rep.err
check "the gallery is listed in summary.md" grep -q 'gallery.png' rep/summary.md

# The checker finds what it must: a legend over data points, overlapping tick labels; and the
# report's single-run histogram is drawn for the recommender only.
check "the layout checker finds a legend over data and crowded ticks" pycheck report.layout_checker_finds
finish
