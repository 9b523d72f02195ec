#!/usr/bin/env bash
# One definition of every metric: the figures the engine stores under /summary (reciprocity,
# alpha at beta, correlation, negative fractions; single runs and in expectation; TracIn and
# Marginal) equal those of the tools' one Python implementation (tools/reciprocity_tools/metrics.py,
# which the report uses for what /summary does not hold), for several beta and numbers of
# individuals n; alpha also equals its definition (the largest alpha with r_i >= alpha for a
# fraction beta). The report at a beta other than its file's summary computes alpha with it: equal
# to the engine's summary at that beta. The files are cut from one small synthetic run to the first
# n individuals, with flows chosen to have zeros, ties, opposite signs and negative values.
# Usage: test_metrics_agree.sh <reciprocity binary> <shared data dir> <source dir>
source "$(dirname "$0")/lib.sh" "$@"
NS="1 2 3 5 7 10 20"
BETAS="0.5 0.6 0.75 0.8 0.9 0.95 1.0"

if ! "$bin" -q --synthetic-users 20 --synthetic-items 30 --synthetic-ratings 600 --splits 2 --seeds 2 --steps 5 --learning-rate 1 \
    --out base.h5 >base.out 2>base.err; then
  echo "FAIL the engine did not run:"; cat base.err; exit 1
fi

# Files n<n>.h5: the layout of base.h5 cut to n individuals, chosen flows, Marginal flows on 3
# of the 4 runs, and run (1, 1) incomplete.
pycheck files.cut_files base.h5 "$NS" || { echo "FAIL writing the test files"; exit 1; }

# The engine's summary of a copy of each file for each beta. Each call mostly waits for the MPI
# start-up, so they run a few at a time.
for n in $NS; do
  for b in $BETAS; do
    cp "n$n.h5" "n${n}_b$b.h5"
    echo "n${n}_b$b.h5 $b"
  done
done | xargs -P 6 -n 2 sh -c '"$0" -q --summarize "$1" --beta "$2" >"$1.out" 2>&1 || { cat "$1.out"; exit 1; }' "$bin" ||
  { echo "FAIL the engine's --summarize failed"; exit 1; }

# The engine's stored figures against metrics.py and against the definition.
check "engine and metrics.py agree" pycheck summary.metrics_agree "$NS" "$BETAS"
# The report at another beta than its file's summary: metrics.py's alpha, the engine's at that beta.
check "the report's alpha at another beta is the engine's" pycheck summary.other_beta_agrees "$NS" "$BETAS"

# The report's command line gives the same numbers as the engine (summary.json, --beta).
if "$src/tools/report" --completed-only --no-plots --beta 0.8 n10_b0.8.h5 --out rep >/dev/null 2>rep.err &&
   pycheck summary.report_json_matches rep/summary.json n10_b0.8.h5; then
  echo "ok   tools/report --beta 0.8 matches the engine's /summary"
else
  fail "tools/report summary.json"; cat rep.err
fi
finish
