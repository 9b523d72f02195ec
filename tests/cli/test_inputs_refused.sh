#!/usr/bin/env bash
# Inputs that cannot give a result are refused (issue 20, item 5), each with its exit status, a
# message naming the file and line or the option, and no results file; and the two wrong results
# found by replaying the flows (item 6) stay fixed: a single pass whose step 0 has an empty batch
# is not "diverged", and a split whose seed-0 run diverged still gets its training mask.
# Usage: test_inputs_refused.sh <reciprocity binary> <shared data dir> <source dir>
source "$(dirname "$0")/lib.sh" "$@"
py=/usr/bin/python3

# expect <name> <status> <message ERE> <out> -- args...: "$bin" -q args (with --out <out>) exits with
# <status>, prints a line matching the ERE, and leaves no <out> (nor <out>.partial) behind.
expect() {
  local name=$1 status=$2 pattern=$3 out=$4
  shift 5
  rm -f "$out" "$out.partial"
  "$bin" -q "$@" --out "$out" > "$name.log" 2>&1
  local rc=$?
  if [[ $rc -ne $status ]]; then fail "$name: exit status $rc, expected $status: $(tail -2 "$name.log")"; return; fi
  if ! grep -Eq -- "$pattern" "$name.log"; then fail "$name: message does not match /$pattern/: $(tail -2 "$name.log")"; return; fi
  if [[ $status -eq 6 ]]; then  # a divergence stops the sweep: its file holds no completed run
    if [[ $(h5 "$out" "int(f['runs/complete'][...].sum())") != 0 ]]; then fail "$name: $out claims completed runs"; return; fi
  elif [[ -e $out || -e $out.partial ]]; then fail "$name: $out was left behind"; return; fi
  echo "ok   $name: $(grep -E -- "$pattern" "$name.log" | head -1)"
}

# h5 <file> <python expression over f (h5py.File) and np>: prints the value.
h5() { pycheck files.value "$1" "$2"; }

ml=(--dataset movielens-100k --splits 2 --seeds 1 --steps 5 --embedding-dim 2)

# --- u.data: ids must be positive, a (user, item) pair rated once -------------------------------
mkdir -p zero neg dup
printf '1\t1\t5\t881250949\n0\t2\t3\t881250949\n2\t1\t4\t881250949\n' > zero/u.data
printf '1\t1\t5\t881250949\n1\t-3\t3\t881250949\n2\t1\t4\t881250949\n' > neg/u.data
printf '1\t1\t5\t881250949\n1\t2\t3\t881250949\n2\t1\t4\t881250949\n\n1\t2\t4\t881250950\n2\t2\t1\t881250949\n' > dup/u.data
expect user-id-zero 3 'zero/u.data line 2: user id "0" is not positive' z.h5 -- "${ml[@]}" --data zero
expect item-id-negative 3 'neg/u.data line 2: item id "-3" is not positive' z.h5 -- "${ml[@]}" --data neg
# The partitioned load (scan) and the whole load (--marginal) both refuse, on every rank.
expect duplicate-rating 3 'dup/u.data line 5: user 1 rates item 2 again \(first at line 2\)' z.h5 -- "${ml[@]}" --data dup
expect duplicate-rating-marginal 3 'dup/u.data line 5: user 1 rates item 2 again \(first at line 2\)' z.h5 -- "${ml[@]}" --data dup --marginal
rm -f z.h5
mpirun -n 2 --oversubscribe "$bin" -q "${ml[@]}" --data dup --out z.h5 > dup2.log 2>&1
rc=$?
if [[ $rc -eq 3 ]] && grep -q 'line 5: user 1 rates item 2 again' dup2.log && [[ ! -e z.h5 ]]; then echo "ok   duplicate-rating on 2 ranks"
else fail "duplicate-rating on 2 ranks: exit $rc: $(tail -2 dup2.log)"; fi

# --- model options: finite, and not absurd ------------------------------------------------------
expect lambda-inf 2 'option --lambda: inf is out of range \(from 0 to 1e6\)' z.h5 -- --lambda inf
expect lambda-nan 2 'option --lambda: nan is out of range' z.h5 -- --lambda nan
expect lambda-huge 2 'option --lambda: 1e\+09 is out of range' z.h5 -- --lambda 1e9
expect init-scale-inf 2 'option --init-scale: inf is out of range' z.h5 -- --init-scale inf
expect init-scale-huge 2 'option --init-scale: 1e\+06 is out of range \(positive, at most 1e3\)' z.h5 -- --init-scale 1e6
expect noise-inf 2 'option --noise-multiplier: inf is out of range' z.h5 -- --clip 1 --noise-multiplier inf
expect noise-huge 2 'option --noise-multiplier: 1e\+300 is out of range \(from 0 to 1e6\)' z.h5 -- --clip 1 --noise-multiplier 1e300
# Within range but diverging: the message names the option raised above the preset.
expect diverges-lambda 6 'step [0-9]+: .*\(--lambda 100000 \(the preset.s is 0.05\) is probably too large\)' d.h5 -- \
  --splits 1 --seeds 1 --steps 30 --lambda 1e5
expect diverges-init-scale 6 '\(--init-scale 300 \(the preset.s is 0.3\) is probably too large\)' d.h5 -- \
  --splits 1 --seeds 1 --steps 30 --init-scale 300
expect diverges-learning-rate 6 '\(--learning-rate 1000 \(the preset.s is 10\) is probably too large\)' d.h5 -- \
  --splits 1 --seeds 1 --steps 30 --learning-rate 1000

# --- --seed: an unsigned 64-bit integer, not wrapped -------------------------------------------
expect seed-negative 2 'option --seed: "-1" is not an integer from 0 to 18446744073709551615' z.h5 -- --seed -1
expect seed-too-large 2 'option --seed: "18446744073709551616" is not an integer' z.h5 -- --seed 18446744073709551616
printf 'seed = -5\n' > seed.cfg
expect seed-in-config 2 'option --seed: "-5" is not .*config file "seed.cfg" line 1' z.h5 -- --config seed.cfg
"$bin" -q --splits 1 --seeds 1 --steps 2 --seed 18446744073709551615 --out big-seed.h5 > big-seed.log 2>&1
if [[ $? -eq 0 && $(h5 big-seed.h5 "f.attrs['config_seed']") == 18446744073709551615 ]]; then echo "ok   seed 2^64 - 1 accepted and recorded"
else fail "seed 2^64 - 1: $(tail -2 big-seed.log)"; fi

# --- sizes that cannot be allocated: refused before allocating, naming the option and the memory ----
expect splits-too-many 2 'option --splits 1000000000 \(x --seeds 2\) needs at least .* GB of memory' z.h5 -- --splits 1000000000
expect synthetic-items-too-many 2 'option --synthetic-items 2000000000 needs at least 80 GB of memory' z.h5 -- --synthetic-items 2000000000
expect embedding-dim-too-large 2 'option --embedding-dim 4096 needs at least .* GB of memory' z.h5 -- \
  --synthetic-users 10000000 --synthetic-ratings 10000000 --embedding-dim 4096

# --- a logistic CSV whose labels are one class ---------------------------------------------------
printf 'a,b,y\n1,2,0\n3,4,0\n5,6,0\n7,8,0\n' > one-class.csv
expect logistic-one-class 3 'one-class.csv: every label is 0 \(4 rows\): a classification needs both classes' z.h5 -- \
  --dataset csv --model logistic --data one-class.csv

# --- --dataset csv with a .csv.gz: decompressed ------------------------------------------------
pycheck files.small_regression_csv r.csv || fail "writing r.csv"
gzip -c r.csv > r.csv.gz
csv=(-q --dataset csv --model linear --splits 3 --steps 20)
"$bin" "${csv[@]}" --data r.csv --out plain.h5 > plain.log 2>&1 || fail "csv plain: $(tail -2 plain.log)"
"$bin" "${csv[@]}" --data r.csv.gz --out gz.h5 > gz.log 2>&1
rc=$?
if [[ $rc -ne 0 ]]; then fail "csv.gz: exit $rc: $(tail -2 gz.log)"
elif [[ $(h5 gz.h5 "f['individuals/id'].shape[0]") != 30 ]]; then fail "csv.gz: not 30 individuals"
elif [[ $(h5 gz.h5 "int(np.array_equal(f['flows/tracin/inflow'][...], h5py.File('plain.h5','r')['flows/tracin/inflow'][...]))") != 1 ]]; then
  fail "csv.gz: flows differ from those of the plain file"
else echo "ok   csv.gz decompressed: 30 rows, the flows of the plain file"; fi
printf 'not gzip at all\n' > fake.csv.gz
expect csv-gz-not-gzip 3 'decompressing ".*fake.csv.gz": not a gzip file' z.h5 -- --dataset csv --model linear --data fake.csv.gz

# --- UTF-8 byte order marks: in a config file and a CSV header ---------------------------------
printf '\xEF\xBB\xBFsteps = 3\nsplits = 1\nseeds = 1\n' > bom.cfg
"$bin" -q --config bom.cfg --out bom.h5 > bom.log 2>&1
rc=$?
if [[ $rc -eq 0 && $(h5 bom.h5 "f.attrs['config_steps']") == 3 ]]; then echo "ok   config file with a byte order mark: steps = 3 read"
else fail "config file with a byte order mark: exit $rc: $(tail -2 bom.log)"; fi
printf '\xEF\xBB\xBFg,x,y\n1,1,2\n2,2,3\n1,3,5\n2,4,1\n1,5,2\n2,6,3\n' > bom.csv
"$bin" -q --dataset csv --model linear --splits 1 --steps 3 --data bom.csv --entities column:g --out bomcsv.h5 > bomcsv.log 2>&1
rc=$?
if [[ $rc -eq 0 && $(h5 bomcsv.h5 "f.attrs['entity_names']") == $'1\n2' ]]; then echo "ok   csv header with a byte order mark: column g found"
else fail "csv header with a byte order mark: exit $rc: $(tail -2 bomcsv.log)"; fi

# --- --entities map: naming a directory --------------------------------------------------------
mkdir -p mapdir
expect map-directory 2 'option --entities map:mapdir: "mapdir" is a directory, not a file' z.h5 -- \
  --dataset csv --model linear --data r.csv --entities map:mapdir

# --- a range error in a config file that the command line overrides ------------------------------
printf 'steps = 3\nsplits = 0\n' > over.cfg
expect config-overridden-range 2 'option --splits: 0 is out of range \(at least 1\) \(set in config file "over.cfg" line 2' z.h5 -- \
  --config over.cfg --splits 2
printf 'lambda = -1\n' > over2.cfg
expect config-overridden-lambda 2 'option --lambda: -1 is out of range .*config file "over2.cfg" line 1' z.h5 -- \
  --config over2.cfg --lambda 0.1

# --- item 6 (a): a single pass whose step 0 has an empty batch is not diverged --------------------
# 20 diabetes-shaped rows of our own: 16 train, 353 steps, so step 0's batch is empty in most splits.
mkdir -p dia
pycheck files.small_diabetes dia || fail "writing dia/"
single_pass() {  # single_pass <name> <data dir>: 10 splits, every run complete, none diverged
  local name=$1 dir=$2
  "$bin" -q --dataset diabetes --data "$dir" --splits 10 --batches single-pass --out "$name.h5" > "$name.log" 2>&1
  local rc=$?
  if [[ $rc -ne 0 ]]; then fail "$name: exit $rc (expected 0): $(grep -m1 error "$name.log")"; return; fi
  local got
  got=$(h5 "$name.h5" "int(f['runs/complete'][...].sum()), int((f['runs/diverged_step'][...] >= 0).sum())")
  if [[ $got == "10 0" ]]; then echo "ok   $name: 10 runs complete, none diverged"
  else fail "$name: (complete, diverged) = $got, expected (10, 0)"; fi
}
single_pass single-pass-own dia
if [[ -f $data/health/diabetes_target.csv.gz || -f $data/health/diabetes_target.csv ]]; then
  single_pass single-pass-diabetes "$data/health"
else
  echo "skip single-pass-diabetes: no $data/health"
fi

# --- item 6 (b): --save-split-mask with a diverged seed-0 run -----------------------------------
# Synthetic, at a learning rate where some runs diverge and others do not (seed-dependent).
"$bin" -q --splits 6 --seeds 3 --steps 30 --learning-rate 40 --save-split-mask --on-divergence continue \
  --out mask.h5 > mask.log 2>&1
rc=$?
# The same splits at a learning rate where every run completes: the masks depend on the split only.
"$bin" -q --splits 6 --seeds 1 --steps 2 --learning-rate 1 --save-split-mask --out mask-ref.h5 > mask-ref.log 2>&1 ||
  fail "mask reference: $(tail -2 mask-ref.log)"
if [[ $rc -ne 0 ]]; then fail "split mask with a diverged seed 0: exit $rc: $(tail -2 mask.log)"
else
  got=$(pycheck runs.masks_of_diverged_seed mask.h5 mask-ref.h5)
  if [[ $got =~ cases=\[\] ]]; then fail "split mask: no split with seed 0 diverged and another seed complete ($got): the test needs one"
  elif [[ ! $got =~ bad=\[\] ]]; then fail "split mask: splits whose mask is not the split's ($got)"
  else echo "ok   split mask written for a split whose seed 0 diverged ($got)"; fi
fi

# --- OUT.partial of the user's, --force through a symlink, --beta on --resume/--summarize -------
echo "my notes" > notes.h5.partial
"$bin" -q --splits 1 --steps 5 --out notes.h5 > partial.log 2>&1
rc=$?
if [[ $rc -eq 2 ]] && grep -q 'notes.h5.partial" exists and is not a results file left by a stopped creation' partial.log &&
   [[ $(cat notes.h5.partial) == "my notes" && ! -e notes.h5 ]]; then
  echo "ok   a file of the user's named OUT.partial: refused (exit 2), kept"
else
  fail "OUT.partial: exit $rc, $(head -2 partial.log), contents $(head -c 20 notes.h5.partial)"
fi
mkdir -p store
"$bin" -q --splits 1 --steps 5 --out store/real.h5 > /dev/null 2>&1 || fail "the symlink's target run"
ln -s store/real.h5 link.h5
"$bin" -q --splits 2 --steps 5 --out link.h5 --force > force.log 2>&1
rc=$?
splits=$(pycheck files.attr store/real.h5 splits 2>&1)
if [[ $rc -eq 0 && -L link.h5 && $splits == 2 ]]; then
  echo "ok   --force through a symlink replaces its target (2 splits), the link stays a link"
else
  fail "--force through a symlink: exit $rc, link $(stat -c %F link.h5), target splits $splits"; tail -2 force.log
fi
"$bin" -q --splits 2 --steps 5 --out beta.h5 > /dev/null 2>&1 || fail "the --beta run"
for mode in resume summarize; do
  if [[ $mode == resume ]]; then args=(--splits 2 --steps 5 --out beta.h5 --resume --beta 0.5); else args=(--summarize beta.h5 --beta 0.25); fi
  "$bin" -q "${args[@]}" > beta.log 2>&1 || fail "--beta on --$mode: $(tail -2 beta.log)"
  want=$([[ $mode == resume ]] && echo 0.5 || echo 0.25)
  got=$(h5 beta.h5 'float(f.attrs["beta"]), float(f["summary/beta"][0])' 2>&1)
  [[ $got == "$want $want" ]] && echo "ok   --beta $want on --$mode: the root attribute and /summary/beta say $want" ||
    fail "--beta on --$mode: root attribute and summary: $got, expected $want"
done

finish
