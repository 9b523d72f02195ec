#!/usr/bin/env bash
# A write that fails on one rank, at any phase of a results file (creating the layout, a run's
# rows, its completion flag, the summary, the status attribute, the final flush, the close), on
# 1 and 2 ranks: every rank exits 4 within 30 s, no crash, a message naming the file and the
# phase; the runs complete before the fault stay complete and equal to an uninterrupted sweep,
# the run being written is not flagged complete, and --resume then completes the file equal,
# run by run, to the uninterrupted sweep (a 1-rank run). A fault while creating a file over an
# earlier one leaves that file byte for byte unchanged.
# Faults are injected with the test-only switch RECIPROCITY_FAULT=h5-write:N:RANK (fail the
# N-th write call on that rank); N for each phase is found from RECIPROCITY_FAULT=h5-write:trace.
# Usage: test_write_faults.sh <reciprocity binary> <shared data dir> <source dir>
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh" "$@"
source "$here/faults_lib.sh"
command -v /usr/bin/python3 > /dev/null && /usr/bin/python3 -c 'import h5py' 2> /dev/null || { echo "h5py missing"; exit 77; }

make_reference

# nth <trace> <pattern> <first|second|last>: the number of the write call matching <pattern>.
nth() {
  local lines
  lines=$(grep -E "rank 0: ($2)\$" "$1" | awk '{print $2}')
  case $3 in
    first) head -1 <<<"$lines" ;;
    second) sed -n 2p <<<"$lines" ;;
    last) tail -1 <<<"$lines" ;;
  esac
}

for np in 1 2; do
  # Each rank's trace in its own file (--output-filename): mpirun forwards the ranks' stderr in
  # chunks that may split lines, so one stream could interleave the two ranks' lines.
  rm -rf "trace$np.d"
  RECIPROCITY_FAULT=h5-write:trace mpirun -n "$np" --oversubscribe --output-filename "trace$np.d" \
    "$bin" -q "${sweep[@]}" --out "trace$np.h5" > "trace$np.out" 2>&1
  rc=$?
  cat "trace$np.d"/1/rank.*/stderr > "trace$np.log" 2>/dev/null
  [[ $rc -eq 0 ]] || { fail "np $np: the traced sweep exited $rc"; tail -3 trace$np.log; continue; }
  if ((np == 2)) && ! diff <(grep 'rank 0:' trace2.log | sed 's/rank 0//') <(grep 'rank 1:' trace2.log | sed 's/rank 1//') > /dev/null; then
    fail "np 2: the ranks do not make the same write calls in the same order"
    diff <(grep 'rank 0:' trace2.log | sed 's/rank 0//') <(grep 'rank 1:' trace2.log | sed 's/rank 1//') | head -6
  fi
  per_round=$np  # runs written per round (one per rank)
  # A failed flag write loses the flag of the failing rank's run only: the other ranks' runs of
  # that round, whose rows are on disk, are flagged complete.
  # phase name | pattern of the write call | which occurrence | runs complete after the fault
  phases=(
    "creating the layout|writing attribute config_seeds of /|first|none"
    "creating the layout|flushing the layout|first|none"
    "the rows of|writing /flows/tracin/inflow|second|$per_round"
    "the completion flag of|writing /runs/complete|second|$((per_round + np - 1))"
    "the summary's /summary/mean_inflow|writing /summary/mean_inflow|first|6"
    "attribute status|writing attribute status of /|last|6"
    "flushing|flushing|last|6"
    "closing|closing|last|6"
  )
  k=0
  for entry in "${phases[@]}"; do
    IFS='|' read -r phase pattern which expect_done <<<"$entry"
    n=$(nth trace$np.log "$pattern" "$which")
    rank=$(((k++ + 1) % np))
    name="np $np, write $n on rank $rank ($phase)"
    [[ -n $n ]] || { fail "$name: no write call matches /$pattern/ in the trace"; continue; }
    out=f$np.$k.h5
    RECIPROCITY_FAULT=h5-write:$n:$rank run_job "$np" 30 fault.log --out "$out"
    if [[ $rc -eq 124 ]]; then fail "$name: still running after 30 s (hang)"; tail -3 fault.log; continue; fi
    no_crash fault.log || { fail "$name: crash: $(grep -E 'Segmentation|core|Signal:|MPI_ABORT' fault.log | head -1)"; }
    ranks_exit fault.log "$np" 4 || fail "$name: not every rank exited 4 (mpirun: $rc)"
    grep -q "reciprocity: error: writing results file \"$out\" ($phase" fault.log ||
      { fail "$name: no message naming the file and the phase:"; grep error fault.log | head -2; }
    [[ -e $out.partial ]] && fail "$name: $out.partial left behind"
    story="exit $rc in $ms ms"
    if [[ $expect_done == none ]]; then
      [[ -e $out ]] && fail "$name: $out exists after a failed creation"
    elif [[ ! -e $out ]]; then
      fail "$name: $out is missing"
    elif compare ref.h5 "$out" partial > cmp.log; then
      got=$(grep -o '[0-9]* complete run' cmp.log | cut -d' ' -f1)
      [[ $got -eq $expect_done ]] || fail "$name: $got run(s) complete after the fault, expected $expect_done"
      story+=", $got complete run(s) kept equal"
    else
      fail "$name: the runs complete after the fault differ from the reference"; cat cmp.log
    fi
    run_job "$np" 60 resume.log --out "$out" --resume
    if [[ $rc -ne 0 ]]; then
      fail "$name: --resume exited $rc"; tail -3 resume.log
    elif compare ref.h5 "$out" > cmp.log; then
      echo "ok   $name: $story; --resume: $(cat cmp.log)"
    else
      fail "$name: the resumed file differs from the uninterrupted sweep"; cat cmp.log
    fi
  done
done

# A fault while creating a file over an earlier one (--force): that file is left unchanged.
cp ref.h5 old.h5
n=$(nth trace2.log 'flushing the layout' first)
RECIPROCITY_FAULT=h5-write:$n:1 run_job 2 30 force.log --out old.h5 --force
if [[ $rc -eq 4 ]] && cmp -s ref.h5 old.h5 && [[ ! -e old.h5.partial ]]; then
  echo "ok   a fault creating a file over an earlier one (--force): exit 4, the earlier file unchanged"
else
  fail "a fault creating a file over an earlier one: exit $rc, $(cmp ref.h5 old.h5 2>&1 || true)"
fi

# The switch is checked: a malformed value is a configuration error.
RECIPROCITY_FAULT=h5-write:x run_job 1 30 bad.log --out bad.h5
if [[ $rc -eq 2 ]] && grep -q 'RECIPROCITY_FAULT' bad.log; then echo "ok   a malformed RECIPROCITY_FAULT: exit 2"; else fail "a malformed RECIPROCITY_FAULT: exit $rc"; fi

finish
