#!/usr/bin/env bash
# Divergence that stays finite is divergence (issue: diabetes at learning rate 0.3 reached a
# deployment loss of 1e36 and was marked complete). With --on-divergence stop the sweep exits 6
# naming the run, the step and the growth; with continue the run is recorded in
# /runs/diverged_step and left incomplete; a converging learning rate is not flagged.
# Usage: test_divergence.sh <reciprocity binary> <shared data dir> <source dir>
[[ -f $2/health/diabetes_data_raw.csv.gz ]] || { echo "skip: no diabetes data in $2/health"; exit 77; }
source "$(dirname "$0")/lib.sh" "$@"
health="$data/health"
d="--dataset diabetes --data $health --splits 2 --steps 200"
"$bin" -q $d --learning-rate 0.3 --out stop.h5 > stop.log 2>&1
rc=$?
check stop-exit-6 test $rc -eq 6
check stop-message grep -Eq 'split 0, seed 0, step [0-9]+: the (training|deployment) loss grew from [0-9.e+-]+ to [0-9.e+-]+ \(more than 10000 times' stop.log
"$bin" -q $d --learning-rate 0.3 --on-divergence continue --out cont.h5 > cont.log 2>&1
check continue-recorded-as-diverged pycheck runs.diverged cont.h5
check converging-not-flagged "$bin" -q $d --learning-rate 0.1 --out ok.h5
finish
