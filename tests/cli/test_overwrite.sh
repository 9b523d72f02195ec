#!/usr/bin/env bash
# No silent overwrite: an --out that exists and is not a results file (input data, a text file,
# a foreign or damaged HDF5 file, a directory) is refused with exit 2 naming it, also with
# --force, and its bytes are unchanged; a results file with completed runs is replaced only
# with --force; one with no completed runs is replaced without it. --merge follows the same rule.
# Usage: test_overwrite.sh <reciprocity binary> <shared data dir> <source dir>
source "$(dirname "$0")/lib.sh" "$@"
export OMPI_MCA_odls_base_sigkill_timeout=${OMPI_MCA_odls_base_sigkill_timeout:-0}

tiny=(--synthetic-users 30 --synthetic-items 20 --synthetic-ratings 300 --splits 2 --seeds 1 --steps 5 --learning-rate 1)

# run <args...>: 2 ranks; output in $out, exit status in $rc.
run() {
  out=$(timeout 60 mpirun -n 2 --oversubscribe "$bin" "$@" 2>&1)
  rc=$?
  [[ $rc -eq 124 ]] && fail "hang: $*"
}

# refused <name> <file> <message regex> -- args...: exit 2, a message naming the file, the
# file's bytes unchanged and no OUT.partial left.
refused() {
  local name=$1 file=$2 pattern=$3
  shift 4
  local before
  before=$(md5sum < "$file" 2>/dev/null || echo dir)
  run "$@"
  local err
  err=$(grep 'reciprocity: error:' <<<"$out")
  if [[ $rc -ne 2 ]]; then fail "$name: exit status $rc, expected 2"; echo "$out" | tail -3
  elif ! grep -Eq -- "$pattern" <<<"$err"; then fail "$name: message does not match /$pattern/: ${err:-$out}"
  elif [[ $(md5sum < "$file" 2>/dev/null || echo dir) != "$before" ]]; then fail "$name: $file was modified"
  elif [[ -e $file.partial ]]; then fail "$name: $file.partial was created"
  else echo "ok   $name: $err"; fi
}

completed() { pycheck files.complete_runs "$1"; }

# --- files that are not results files: never replaced, not even with --force ---
printf '1\t1\t5\t881250949\n1\t2\t3\t881250949\n2\t1\t4\t881250949\n' > u.data
if [[ -f $data/ml-100k/u.data ]]; then cp "$data/ml-100k/u.data" ml-u.data  # the real input (never committed)
else skip "out-is-ml-u.data: no $data/ml-100k/u.data"; fi
for f in u.data ml-u.data; do
  [[ -f $f ]] || continue
  refused "out-is-$f" "$f" "option --out: \"$f\" is not replaced: not an HDF5 file" -- "${tiny[@]}" --out "$f"
done
echo "my notes" > notes.txt
refused out-is-text notes.txt 'option --out: "notes\.txt" is not replaced' -- "${tiny[@]}" --out notes.txt
refused out-is-text-force notes.txt 'option --out: "notes\.txt" is not replaced' -- "${tiny[@]}" --force --out notes.txt
pycheck files.foreign_hdf5 foreign.h5
refused out-is-foreign-hdf5 foreign.h5 'option --out: "foreign\.h5" is not replaced: not a reciprocity results file' -- "${tiny[@]}" --out foreign.h5
refused out-is-foreign-hdf5-force foreign.h5 '"foreign\.h5" is not replaced' -- "${tiny[@]}" --force --out foreign.h5
mkdir adir
refused out-is-directory adir 'option --out: "adir" is a directory' -- "${tiny[@]}" --out adir
refused merge-into-text notes.txt 'option --out: "notes\.txt" is not replaced' -- -q --merge foreign.h5 --out notes.txt

# --- a results file with completed runs: only with --force ---
run "${tiny[@]}" -q --out done.h5
[[ $rc -eq 0 && $(completed done.h5) -eq 2 ]] || fail "reference run (exit $rc)"
cp done.h5 keep.h5
refused out-has-runs done.h5 'option --out: "done\.h5" holds 2 completed run\(s\); --force replaces it, --resume continues it' -- "${tiny[@]}" --out done.h5
refused merge-into-runs done.h5 '"done\.h5" holds 2 completed run' -- -q --merge keep.h5 --out done.h5
cmp -s done.h5 keep.h5 || fail "refusals modified done.h5"
# A damaged results file (truncated) is not a readable results file: never replaced.
cp done.h5 half.h5 && truncate -s $(($(stat -c %s done.h5) / 2)) half.h5
refused out-damaged-force half.h5 '"half\.h5" is not replaced' -- "${tiny[@]}" --force --out half.h5
run "${tiny[@]}" --seed 7 --force --out done.h5
if [[ $rc -eq 0 ]] && grep -q 'replacing "done.h5" (--force: 2 completed run(s) discarded)' <<<"$out" &&
   [[ $(pycheck files.attr done.h5 config_seed) == 7 ]]; then
  echo "ok   --force replaces a results file with completed runs"
else
  fail "--force: exit $rc"; echo "$out" | tail -3
fi
refused force-and-resume done.h5 'options --force and --resume cannot be combined' -- "${tiny[@]}" --force --resume --out done.h5

# --- a results file with no completed runs (every run diverged): replaced without --force ---
run --synthetic-users 30 --synthetic-items 20 --synthetic-ratings 300 --splits 1 --seeds 1 --steps 20 \
  --learning-rate 1e6 --on-divergence continue -q --out none.h5
[[ $rc -eq 0 && $(completed none.h5) -eq 0 ]] || fail "diverging run for the empty file (exit $rc)"
run "${tiny[@]}" --out none.h5
if [[ $rc -eq 0 && $(completed none.h5) -eq 2 ]] && grep -q 'replacing "none.h5" (a results file with no completed runs)' <<<"$out"; then
  echo "ok   a results file with no completed runs is replaced without --force"
else
  fail "replacing a file with no completed runs: exit $rc"; echo "$out" | tail -3
fi

# --- documented ---
"$bin" --help > help.txt
grep -q -- '--force' help.txt && echo "ok   --help documents --force" || fail "--help lacks --force"

finish
