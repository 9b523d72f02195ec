# Shared by test_write_faults.sh and test_disk_full.sh (sourced after lib.sh): a small sweep, a
# reference file from an uninterrupted 1-rank run, runs whose every rank's exit status is
# recorded, and the run-by-run comparison of a results file with the reference.
export OMPI_MCA_odls_base_sigkill_timeout=${OMPI_MCA_odls_base_sigkill_timeout:-0}
# mpirun kills the other ranks as soon as one exits non-zero; let each rank end by itself, so
# that every rank's own exit status is seen.
export OMPI_MCA_orte_abort_on_non_zero_status=0
sweep=(--synthetic-users 80 --synthetic-items 50 --synthetic-ratings 3000 --steps 200 --learning-rate 2 --splits 3
       --seeds 2)

# launch <np> <log> <args...>: mpirun in the background, each rank's exit status appended to
# <log>.ranks ("rank R exit S"); the job's pid in $job, its start (ms) in $t0.
launch() {
  local np=$1 log=$2
  shift 2
  rm -f "$log.ranks"
  t0=$(date +%s%3N)
  job_log=$log
  mpirun -n "$np" --oversubscribe bash -c \
    '"$0" "$@"; s=$?; echo "rank $OMPI_COMM_WORLD_RANK exit $s" >> "'"$log"'.ranks"; exit $s' \
    "$bin" -q "${sweep[@]}" "$@" > "$log" 2>&1 &
  job=$!
}

# await <limit s>: wait for $job; in $rc the highest exit status of its ranks (mpirun's own is 0
# when ranks end by themselves), 124 when it outlived the limit and was killed; its duration in $ms.
await() {
  local limit=$1 waited=0
  while kill -0 "$job" 2>/dev/null && ((waited < limit * 10)); do sleep 0.1; waited=$((waited + 1)); done
  if kill -0 "$job" 2>/dev/null; then
    kill -KILL $(pgrep -P "$job") "$job" 2>/dev/null
    wait "$job" 2>/dev/null
    rc=124
  else
    wait "$job"
    rc=$?
    [[ -s $job_log.ranks ]] && rc=$(awk '{print $4}' "$job_log.ranks" | sort -n | tail -1)
  fi
  ms=$(($(date +%s%3N) - t0))
}

# run_job <np> <limit s> <log> <args...>: launch and await.
run_job() {
  local np=$1 limit=$2 log=$3
  shift 3
  launch "$np" "$log" "$@"
  await "$limit"
}

# ranks_exit <log> <np> <status>: every one of the <np> ranks exited with <status>.
ranks_exit() {
  local n
  n=$(grep -c "exit $3\$" "$1.ranks" 2>/dev/null)
  [[ $n -eq $2 ]] || { echo "  ranks: $(tr '\n' ';' < "$1.ranks" 2>/dev/null)"; return 1; }
}

# no_crash <log>: no signal, core dump or abort reported.
no_crash() { ! grep -Eq 'Segmentation|core dumped|MPI_ABORT|Signal:|internal error|terminate called' "$1"; }


# reference: the uninterrupted sweep on 1 rank, in ref.h5.
make_reference() {
  run_job 1 120 ref.log --out ref.h5
  if [[ $rc -ne 0 ]]; then cat ref.log; echo "the reference sweep failed ($rc)"; exit 1; fi
}

# use_mount_point: $mnt, an empty directory for a small test file system, unmounted (with every
# mount stacked on it) and removed with $work when the test exits.
unmount() { while mountpoint -q "$mnt" && umount "$mnt"; do :; done; }
use_mount_point() {
  mnt=$work/mnt
  mkdir -p "$mnt"
  trap 'unmount; rm -rf "$work"' EXIT
}
