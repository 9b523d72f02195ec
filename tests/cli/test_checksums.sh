#!/usr/bin/env bash
# Checksums: every written dataset has HDF5's Fletcher32 filter, so a damaged byte inside a raw
# chunk (a run's flows) is detected on read: --summarize and --resume exit 4 naming the file and
# the checksum (--summarize leaves the file as it was; --resume records the failure in its status), h5py refuses the chunk too, and an undamaged copy still summarises.
# A chunk zeroed with its checksum is caught by the run digests (program and Python reader).
# Usage: test_checksums.sh <reciprocity binary> <shared data dir> <source dir>
source "$(dirname "$0")/lib.sh" "$@"
py=/usr/bin/python3
"$py" -c 'import h5py' 2>/dev/null || { echo "skip: h5py is not installed for $py"; exit 77; }
tiny=(--synthetic-users 30 --synthetic-items 20 --synthetic-ratings 300 --splits 3 --seeds 1 --steps 5 --learning-rate 1)

timeout 60 mpirun -n 2 --oversubscribe "$bin" "${tiny[@]}" --out ok.h5 --quiet >/dev/null 2>&1 || fail "the sweep"
check "every written dataset is checksummed (Fletcher32)" pycheck damage.fletcher32_everywhere ok.h5

# Flip one byte in the middle of split 1's inflow chunk.
cp ok.h5 bad.h5
pycheck damage.flip_byte bad.h5 || fail "damaging the chunk"
for mode in summarize resume; do
  before=$(md5sum < bad.h5)
  if [[ $mode == summarize ]]; then args=(--summarize bad.h5); else args=("${tiny[@]}" --out bad.h5 --resume); fi
  out=$(timeout 60 mpirun -n 2 --oversubscribe "$bin" "${args[@]}" 2>&1)
  rc=$?
  if [[ $rc -eq 4 ]] && grep -q 'reciprocity: error: .*"bad.h5".*Fletcher32 checksum' <<<"$out"; then
    echo "ok   --$mode of a damaged chunk: exit 4 naming the file and the checksum"
  else
    fail "--$mode of a damaged chunk: exit $rc"; echo "$out" | head -3
  fi
  if [[ $mode == summarize ]]; then
    [[ $(md5sum < bad.h5) == "$before" ]] && echo "ok   --summarize leaves the damaged file as it was" || fail "--summarize changed the damaged file"
  fi
done
# --resume had reopened the file: its status now says why it failed; the runs are untouched.
check "--resume records the failure in the file's status" pycheck damage.failure_recorded bad.h5 ok.h5
check "h5py refuses the damaged chunk and reads the others" pycheck damage.h5py_refuses bad.h5
timeout 60 mpirun -n 2 --oversubscribe "$bin" --summarize ok.h5 >/dev/null 2>&1 && echo "ok   the undamaged file summarises" || fail "--summarize ok.h5"

# A chunk zeroed together with its Fletcher32 checksum (the checksum of zeros is zero: HDF5's
# check passes) is caught by the run's digest (/runs/digest): --summarize, --resume and --merge
# (2 ranks: every rank ends within 30 s, naming the input; no output marked complete) and the
# Python reader all refuse it.
cp ok.h5 zero.h5
pycheck damage.zero_chunk zero.h5 || fail "zeroing the chunk (or HDF5 refuses it)"
for mode in summarize resume merge; do
  case $mode in
    summarize) args=(--summarize zero.h5) ;;
    resume) args=("${tiny[@]}" --out zero.h5 --resume) ;;
    merge) args=(--merge zero.h5 --out merged.h5) ;;
  esac
  t0=$(date +%s)
  out=$(timeout 30 mpirun -n 2 --oversubscribe "$bin" "${args[@]}" 2>&1)
  rc=$?
  if [[ $rc -eq 4 ]] && grep -q 'reciprocity: error: .*run (split 1, seed 0) does not match its digest' <<<"$out" &&
     { [[ $mode != merge ]] || grep -q '"zero.h5"' <<<"$out"; }; then
    echo "ok   --$mode of a chunk zeroed with its checksum: exit 4 in $(( $(date +%s) - t0 )) s, the run named as damaged"
  else
    fail "--$mode of a zeroed chunk: exit $rc"; echo "$out" | grep -v '^\s*$' | head -3
  fi
done
st=$(pycheck files.attr merged.h5 status 2>&1 || echo "(no merged.h5 status)")
[[ $st != complete* ]] && echo "ok   the failed merge's output is not marked complete ($st)" || fail "the failed merge's output says $st"
check "the Python reader refuses the zeroed chunk" pycheck readers.refuses_digest zero.h5
finish
