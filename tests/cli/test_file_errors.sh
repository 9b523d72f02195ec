#!/usr/bin/env bash
# Results files that are damaged, foreign or of another configuration, and options that make
# no sense, must end with a clear message (naming the file or the option) and the documented
# exit status, never with a crash or a hang; --resume grows a sweep exactly like a fresh run,
# --split-range + --merge give the same file as one run; --on-divergence and
# --progress-format json behave as documented.
# Usage: test_file_errors.sh <reciprocity binary> <shared data dir> <source dir>
source "$(dirname "$0")/lib.sh" "$@"
# mpirun waits 1 s between SIGTERM and SIGKILL of the other ranks when one exits non-zero;
# most runs here fail on purpose, so skip the wait.
export OMPI_MCA_odls_base_sigkill_timeout=${OMPI_MCA_odls_base_sigkill_timeout:-0}

small=(--synthetic-users 80 --synthetic-items 50 --synthetic-ratings 3000 --steps 200 --learning-rate 2 --seeds 2)

# run <np> <args...>: output in $out, exit status in $rc; a hang (timeout) or a crash is a failure.
run() {
  local np=$1
  shift
  out=$(timeout 60 mpirun -n "$np" --oversubscribe "$bin" -q "$@" 2>&1)
  rc=$?
  if [[ $rc -eq 124 ]]; then fail "hang (60 s timeout): $*"; fi
  if grep -Eq 'Segmentation|Abort|core dumped|MPI_ABORT|internal error' <<<"$out"; then
    fail "crash: $*"; grep -E 'Segmentation|Abort|core dumped|MPI_ABORT|internal error' <<<"$out" | head -3
    rc=-1
  fi
}

# expect <name> <np> <status> <message regex> -- args...: status exactly <status> (any non-zero
# when "nz"), and a line "reciprocity: error: ..." matching the regex.
expect() {
  local name=$1 np=$2 status=$3 pattern=$4
  shift 5
  run "$np" "$@"
  local err
  err=$(grep -E 'reciprocity: error:|^  --' <<<"$out")
  if [[ $rc -eq -1 ]]; then return; fi
  if [[ $status == nz && $rc -eq 0 ]] || [[ $status != nz && $rc -ne $status ]]; then
    fail "$name: exit status $rc, expected $status"; echo "$out" | grep -v '^ *$' | head -6; return
  fi
  if ! grep -Eq -- "$pattern" <<<"$err"; then
    fail "$name: message does not match /$pattern/:"; echo "${err:-$(echo "$out" | head -4)}"; return
  fi
  echo "ok   $name ($rc): $(grep -E -- "$pattern" <<<"$err" | head -1)"
}

# ok_run <name> <np> <args...>: must succeed.
ok_run() {
  local name=$1
  shift
  run "$@"
  if [[ $rc -ne 0 ]]; then fail "$name: exit status $rc"; echo "$out" | tail -5; return 1; fi
}

# same <name> <a.h5> <b.h5> [splits]: every dataset under /flows and /runs equal (exactly or to
# 1e-12 relative), /runs/complete all 1 in both; with <splits>, only the first that many splits.
same() {
  local name=$1
  if pycheck runs.equal_runs "${@:2}" > cmp.log 2>&1
  then echo "ok   $name: $(cat cmp.log)"; else fail "$name:"; cat cmp.log; fi
}

# --- reference files ---
ok_run fresh-6 2 "${small[@]}" --splits 6 --out s6.h5 || exit 1
sz=$(stat -c %s s6.h5)

# --- damaged results files: --resume and --summarize ---
cp s6.h5 half.h5 && truncate -s $((sz / 2)) half.h5
cp s6.h5 onekb.h5 && truncate -s 1024 onekb.h5
# Bytes overwritten in the middle of the file. Raw data carries no checksum, so overwrite
# metadata: 256 random bytes on the object header nearest the middle of the file (and, second
# case, on the header of /flows/tracin/inflow, which every open reads).
pycheck damage.overwrite_headers s6.h5 > overwrite.log
cat overwrite.log
for f in half onekb mid midhdr; do
  expect "damaged-$f-resume" 2 4 "\"?$f\.h5\"?" -- "${small[@]}" --splits 6 --resume --out $f.h5
  expect "damaged-$f-summarize" 2 4 "\"?$f\.h5\"?" -- --summarize $f.h5
done
run 2 "${small[@]}" --splits 6 --resume --out midraw.h5
[[ $rc -ge 0 ]] && echo "ok   damaged-midraw-resume: no crash, no hang (exit $rc)"
run 2 --summarize midraw.h5
[[ $rc -ge 0 ]] && echo "ok   damaged-midraw-summarize: no crash, no hang (exit $rc)"

# --- files that are not results files ---
echo "this is not HDF5" > text.h5
pycheck files.foreign_hdf5 foreign.h5 complete
for f in text foreign; do
  expect "$f-resume" 2 4 "\"$f\.h5\".*(not|no )" -- "${small[@]}" --splits 6 --resume --out $f.h5
  expect "$f-summarize" 2 4 "\"$f\.h5\".*(not|no )" -- --summarize $f.h5
done
cmp -s text.h5 <(echo "this is not HDF5") || fail "--resume modified a text file"

# --- another configuration, fewer splits ---
cp s6.h5 other.h5
# The shared options without --learning-rate and --steps, to change both.
cfg=(--synthetic-users 80 --synthetic-items 50 --synthetic-ratings 3000 --seeds 2 --splits 6)
expect resume-other-config 2 2 'differs' -- "${cfg[@]}" --learning-rate 1.5 --steps 150 --resume --out other.h5
grep -q -- '--steps: file has 200, requested 150' <<<"$out" || fail "resume-other-config: --steps not named: $out"
grep -q -- '--learning-rate: file has 2, requested 1.5' <<<"$out" || fail "resume-other-config: --learning-rate not named: $out"
expect resume-fewer-splits 2 2 '6 splits, requested 3' -- "${small[@]}" --splits 3 --resume --out other.h5
same "refused resumes leave the file as it was" s6.h5 other.h5

# --- growing: 3 splits, then --resume --splits 6 ---
ok_run fresh-3 2 "${small[@]}" --splits 3 --out grow.h5
same "3-split file = first 3 splits of the 6-split run" s6.h5 grow.h5 3
ok_run grow 2 "${small[@]}" --splits 6 --resume --out grow.h5
same "grown file, first 3 splits" s6.h5 grow.h5 3
same "grown file = fresh 6-split run" s6.h5 grow.h5

# --- split ranges and merge ---
ok_run range-0-3 2 "${small[@]}" --splits 6 --split-range 0:3 --out r1.h5
ok_run range-3-6 2 "${small[@]}" --splits 6 --split-range 3:6 --out r2.h5
# A slice does not claim to be complete; the merge of both slices does.
for f_status in "r1.h5:partial: 6 of 12 runs complete (--split-range 0:3)" "r2.h5:partial: 6 of 12 runs complete (--split-range 3:6)"; do
  st=$(pycheck files.attr "${f_status%%:*}" status)
  [[ $st == "${f_status#*:}"* ]] && echo "ok   ${f_status%%:*} status: $st" || { echo "FAIL ${f_status%%:*} status: $st"; fails=$((fails + 1)); }
done
ok_run merge 2 --merge r1.h5 r2.h5 --out merged.h5
same "merge of 0:3 and 3:6 = fresh 6-split run" s6.h5 merged.h5
st=$(pycheck files.attr merged.h5 status)
[[ $st == complete ]] && echo "ok   merged status: $st" || { echo "FAIL merged status: $st"; fails=$((fails + 1)); }
ok_run range-3-6-steps 2 "${cfg[@]}" --learning-rate 2 --steps 100 --split-range 3:6 --out r3.h5
expect merge-other-config 2 2 'steps: "r1.h5" has 200, "r3.h5" has 100' -- --merge r1.h5 r3.h5 --out bad_merge.h5

# --- bad command lines: exit 2 naming the option ---
expect unknown-option 2 2 "unrecogni[sz]ed option '--frobnicate'" -- --frobnicate --out x.h5
expect negative-seeds 2 2 'option --seeds: -1 is out of range' -- --seeds -1 --out x.h5
expect zero-steps 2 2 'option --steps: 0 is out of range' -- --steps 0 --out x.h5
expect split-range-reversed 2 2 'option --split-range: "?5:2' -- --splits 6 --split-range 5:2 --out x.h5
expect split-range-past-splits 2 2 'option --split-range: .*4:8.*--splits 6' -- --splits 6 --split-range 4:8 --out x.h5
expect ranks-per-run-individuals 4 2 'option --ranks-per-run: .*3 individuals' -- --dataset synthetic --synthetic-users 3 --synthetic-ratings 30 --synthetic-items 10 --ranks-per-run 4 --out x.h5
expect on-divergence-maybe 2 2 'option --on-divergence: "maybe"' -- --on-divergence maybe --out x.h5
expect progress-format-xml 2 2 'option --progress-format: "xml"' -- --progress-format xml --out x.h5
[[ -e x.h5 ]] && fail "a refused command line created x.h5"

# --- divergence ---
div=(--synthetic-users 80 --synthetic-items 50 --synthetic-ratings 3000 --seeds 2 --splits 3 --learning-rate 1e6 --steps 30)
expect divergence-stop 2 6 'split [0-9]+, seed [0-9]+, step [0-9]+:.*(not finite|grew from)' -- "${div[@]}" --out div_stop.h5
if ok_run divergence-continue 2 "${div[@]}" --on-divergence continue --out div_go.h5; then
  if pycheck runs.diverged_consistent div_go.h5
  then echo "ok   divergence-continue: exit 0, diverged runs incomplete with diverged_step >= 0"
  else fail "divergence-continue: runs not left incomplete with /runs/diverged_step >= 0"; fi
fi

# --- --progress-format json: every stdout line before the summary is a JSON object ---
json_out=$(timeout 60 mpirun -n 2 --oversubscribe "$bin" "${small[@]}" --splits 3 --progress-format json --out json.h5 2>/dev/null)
rc=$?
[[ $rc -eq 0 ]] || fail "progress-format json: exit status $rc"
echo "$json_out" > json.out
if pycheck runs.json_progress json.out > json.log
then echo "ok   progress-format json: $(tail -1 json.log)"; else fail "progress-format json:"; cat json.log; fi

finish
