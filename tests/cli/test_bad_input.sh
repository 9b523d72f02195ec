#!/usr/bin/env bash
# Bad input: each case must exit non-zero with a message naming the problem (and file/line or
# option), and must never leave a results file that claims completed runs.
# Usage: test_bad_input.sh <reciprocity binary> <shared data dir> <source dir>
source "$(dirname "$0")/lib.sh" "$@"

# expect <name> <expected status> <message regex> -- args...
expect() {
  local name=$1 status=$2 pattern=$3
  shift 4
  local out rc
  out=$(cd "$work" && mpirun -n 2 --oversubscribe "$bin" -q "$@" 2>&1)
  rc=$?
  if [[ $rc -ne $status ]]; then
    echo "FAIL $name: exit status $rc, expected $status"; echo "$out" | tail -5; fails=$((fails + 1)); return
  fi
  if ! grep -Eq -- "$pattern" <<<"$out"; then
    echo "FAIL $name: message does not match /$pattern/:"; echo "$out" | tail -5; fails=$((fails + 1)); return
  fi
  echo "ok   $name: $(grep -E -- "$pattern" <<<"$out" | head -1)"
}

# A file that claims completed runs: any 1 in /runs/complete.
claims_complete() {
  [[ -f $1 ]] && pycheck runs.any_complete "$1" 2>/dev/null
}

mkdir -p "$work/ml" "$work/empty" "$work/bad"
printf '1\t1\t5\t881250949\n1\t2\t3\t881250949\n2\t1\tx\t881250949\n' > "$work/bad/u.data"
: > "$work/empty/u.data"

expect missing-file 3 'cannot open ".*nowhere' -- --dataset movielens-100k --data "$work/nowhere/u.data" --out "$work/a.h5"
expect malformed-line 3 'u.data line 3: rating "x" is not a number' -- --dataset movielens-100k --data "$work/bad" --out "$work/b.h5"
expect empty-dataset 3 'u.data.*no examples' -- --dataset movielens-100k --data "$work/empty" --out "$work/c.h5"
expect unknown-dataset 2 'option --dataset: unknown dataset "netflix"' -- --dataset netflix --out "$work/d.h5"
expect split-fraction-high 2 'option --train-fraction: 1.5 is out of range' -- --train-fraction 1.5 --out "$work/e.h5"
expect split-fraction-zero 2 'option --train-fraction: 0 is out of range' -- --train-fraction 0 --out "$work/e.h5"
expect unknown-option 2 'unrecognised option|unrecognized option' -- --frobnicate 3 --out "$work/f.h5"
expect negative-splits 2 'option --splits: -3 is out of range' -- --splits -3 --out "$work/g.h5"
expect zero-steps 2 'option --steps: 0 is out of range' -- --steps 0 --out "$work/g.h5"
expect bad-number 2 'option .*--learning-rate|learning-rate' -- --learning-rate fast --out "$work/g.h5"
expect diverging-learning-rate 6 'split 0, seed 0, step [0-9]+: the (training|deployment) loss (is not finite|grew from)' -- --learning-rate 1e6 --steps 50 --out "$work/h.h5"
expect unwritable-output 4 'creating results file ".*no/such/dir/out.h5"' -- --out "$work/no/such/dir/out.h5"
expect ranks-per-run 2 'option --ranks-per-run' -- --ranks-per-run 3 --out "$work/i.h5"

for f in a b c d e f g h i; do
  if claims_complete "$work/$f.h5"; then echo "FAIL $f.h5 claims completed runs"; fails=$((fails + 1)); fi
done
[[ -e $work/no/such/dir/out.h5 ]] && { echo "FAIL output created in a missing directory"; fails=$((fails + 1)); }

finish
