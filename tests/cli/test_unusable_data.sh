#!/usr/bin/env bash
# Data that cannot give a result is refused before any results file is written: no training
# or no deployment example in a split (exit 3 naming the file), a rating or value that is not
# finite or implausibly large (exit 3 naming file and line), a --model that does not fit the
# dataset (exit 2 naming --model and saying which model fits which data).
# Usage: test_unusable_data.sh <reciprocity binary> <shared data dir> <source dir>
source "$(dirname "$0")/lib.sh" "$@"
export OMPI_MCA_odls_base_sigkill_timeout=${OMPI_MCA_odls_base_sigkill_timeout:-0}

# expect <name> <status> <message regex> -- args...: 2 ranks; exit status, a matching error
# line, and no results file.
expect() {
  local name=$1 status=$2 pattern=$3
  shift 4
  rm -f out.h5
  local out rc err
  out=$(timeout 60 mpirun -n 2 --oversubscribe "$bin" -q "$@" --out out.h5 2>&1)
  rc=$?
  err=$(grep 'reciprocity: error:' <<<"$out")
  if [[ $rc -ne $status ]]; then fail "$name: exit status $rc, expected $status"; echo "$out" | tail -3
  elif ! grep -Eq -- "$pattern" <<<"$err"; then fail "$name: message does not match /$pattern/: ${err:-$out}"
  elif [[ -e out.h5 ]]; then fail "$name: a results file was written"
  else echo "ok   $name: $err"; fi
}

# --- no training or no deployment example ---
printf 'x1,x2,y\n1,2,3\n' > one_row.csv
expect csv-one-row 3 'one_row\.csv: 1 individual: a run needs at least 2' -- --dataset csv --model linear --data one_row.csv
printf 'x1,y,who\n1,0,7\n2,1,7\n3,0,7\n' > one_person.csv
expect csv-one-individual 3 'one_person\.csv: 1 individual' -- --dataset csv --model logistic --csv-individual --data one_person.csv
mkdir -p ml1 && printf '1\t1\t5\t881250949\n' > ml1/u.data
expect one-rating 3 'ml1/u\.data: split 0 has no deployment rating' -- --dataset movielens-100k --data ml1 --splits 1 --seeds 1
mkdir -p ml2 && printf '1\t1\t5\t881250949\n2\t1\t3\t881250949\n2\t2\t4\t881250949\n' > ml2/u.data
expect no-training-rating 3 'ml2/u\.data: split [0-9]+ has no training rating' -- --dataset movielens-100k --data ml2 --train-fraction 0.01 --splits 3 --seeds 1
# Two rows are enough (one individual in training, one in deployment).
printf 'x1,x2,y\n1,2,3\n2,1,5\n' > two_rows.csv
if timeout 60 mpirun -n 2 --oversubscribe "$bin" -q --dataset csv --model linear --data two_rows.csv --splits 2 --steps 5 --out two.h5 > two.log 2>&1; then
  echo "ok   csv-two-rows runs"
else
  fail "csv-two-rows: $(tail -2 two.log)"
fi

# --- implausible values, named by file and line ---
mkdir -p big && printf '1\t1\t5\t881250949\n1\t2\t3\t881250949\n2\t1\t1e308\t881250949\n' > big/u.data
expect rating-1e308 3 'big/u\.data line 3: rating "1e308" is out of range \(larger than 1e6' -- --dataset movielens-100k --data big
for v in -2e6 1000001; do
  printf '1\t1\t5\t881250949\n2\t1\t%s\t881250949\n' "$v" > big/u.data
  expect "rating-$v" 3 "big/u\\.data line 2: rating \"$v\" is out of range" -- --dataset movielens-100k --data big
done
for v in nan inf -inf; do
  printf '1\t1\t5\t881250949\n2\t1\t%s\t881250949\n' "$v" > big/u.data
  expect "rating-$v" 3 "big/u\\.data line 2: rating \"$v\" is not finite" -- --dataset movielens-100k --data big
done
# A plausible extreme rating (1e6) still loads.
printf '1\t1\t5\t881250949\n2\t1\t1e6\t881250949\n2\t2\t3\t881250949\n1\t2\t2\t881250949\n' > big/u.data
timeout 60 mpirun -n 2 --oversubscribe "$bin" -q --dataset movielens-100k --data big --splits 1 --seeds 1 --steps 2 \
  --learning-rate 1e-12 --out edge.h5 > edge.log 2>&1 && echo "ok   rating 1e6 accepted" || fail "rating 1e6 refused: $(grep error edge.log)"
printf 'x1,x2,y\n1,2,3\n4,1e300,5\n2,2,2\n' > feature.csv
expect csv-huge-feature 3 'feature\.csv line 3: feature 2 "1e300" is out of range \(larger than 1e15' -- --dataset csv --model linear --data feature.csv
printf 'x1,y\n1,3\n4,-2e15\n2,2\n' > label.csv
expect csv-huge-label 3 'label\.csv line 3: label "-2e15" is out of range' -- --dataset csv --model linear --data label.csv
# The real MovieLens file with one rating replaced (a copy in the temporary directory).
if [[ -f $data/ml-100k/u.data ]]; then
  mkdir -p ml && awk -F'\t' -v OFS='\t' 'NR == 500 { $3 = "1e308" } { print }' "$data/ml-100k/u.data" > ml/u.data
  expect movielens-rating-1e308 3 'ml/u\.data line 500: rating "1e308" is out of range' -- --dataset movielens-100k --data ml
else
  skip "movielens-rating-1e308: no $data/ml-100k/u.data"
fi

# --- a model that does not fit the data ---
fits='mf: synthetic, movielens-100k, movielens.*linear: diabetes, csv; logistic: breast-cancer, csv'
expect csv-mf 2 "option --model: mf does not fit dataset csv.*$fits" -- --dataset csv --model mf --data two_rows.csv
expect movielens-linear 2 "option --model: dataset movielens-100k is fitted with model mf, not linear.*$fits" -- --dataset movielens-100k --model linear --data ml2
expect synthetic-logistic 2 "option --model: dataset synthetic is fitted with model mf, not logistic.*$fits" -- --model logistic

finish
