#!/usr/bin/env bash
# One job per results file (jobs/README.md, "One job per results file"):
# - a second job on a file in use (a run, --resume, --force, --summarize, --merge into it or
#   from it, another name of the file through a symlink) exits 8 within seconds naming the
#   holder (host, pid, Slurm job id, start time), and the first completes unchanged: equal to
#   a reference run made alone, status complete, its lock removed;
# - the lock of a job killed with SIGKILL (mpirun and its ranks, or one rank) does not block
#   the next --resume, which completes the file equal to the reference;
# - a lock from another host: held while its heartbeat is fresh, stale once older than the
#   lease (300 s), taken over with --break-lock; the lock of an earlier run of a requeued Slurm
#   job is stale at once;
# - a job whose lock is taken over stops before its next write (exit 8) and leaves the new
#   holder's lock in place;
# - the lock is released on the error and stop (SIGTERM, exit 7) paths.
# Usage: test_lock.sh <reciprocity binary> <shared data dir> <source dir>
source "$(dirname "$0")/lib.sh" "$@"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -KILL $(pgrep -P "$p") "$p" 2>/dev/null; done
  cd / && rm -rf "$work"
}
trap cleanup EXIT
export OMPI_MCA_odls_base_sigkill_timeout=${OMPI_MCA_odls_base_sigkill_timeout:-0}
unset SLURM_JOB_ID SLURM_RESTART_COUNT SLURM_ARRAY_JOB_ID SLURM_ARRAY_TASK_ID
host=$(hostname)

# About 3 s alone on 2 ranks (24 runs); much longer while other jobs share the cores. (At 1.5 s
# a quiet machine sometimes finished it before the SIGKILL below, 0.5 s after its lock appeared.)
long=(--synthetic-users 200 --synthetic-items 100 --synthetic-ratings 20000 --steps 600 --learning-rate 2
      --splits 12 --seeds 2 -q)
tiny=(--synthetic-users 30 --synthetic-items 20 --synthetic-ratings 300 --splits 2 --seeds 1 --steps 5 -q)

# run <args...>: 2 ranks in the foreground; output in $out, exit status in $rc, seconds in $secs.
run() {
  local t0=$SECONDS
  out=$(timeout 120 mpirun -n 2 --oversubscribe "$bin" "$@" 2>&1)
  rc=$?
  secs=$((SECONDS - t0))
  [[ $rc -eq 124 ]] && fail "hang: $*"
}
# start <log> <args...>: 2 ranks in the background; mpirun's pid in $job.
start() {
  local log=$1
  shift
  mpirun -n 2 --oversubscribe "$bin" "$@" > "$log" 2>&1 &
  job=$!
  pids+=("$job")
}
# wait_job: wait for $job (at most 120 s); its exit status in $rc.
wait_job() {
  local waited=0
  while kill -0 "$job" 2>/dev/null && ((waited < 1200)); do sleep 0.1; waited=$((waited + 1)); done
  if kill -0 "$job" 2>/dev/null; then
    fail "mpirun $job still running after 120 s; killing it"
    kill -KILL $(pgrep -P "$job") "$job" 2>/dev/null
  fi
  wait "$job" 2>/dev/null
  rc=$?
}
# wait_for_lock <file>: until <file>.lock and <file> exist (the job holds the lock, the file is made).
wait_for_lock() {
  for _ in $(seq 300); do [[ -e $1.lock && -e $1 ]] && return 0; sleep 0.05; done
  fail "no lock file $1.lock appeared"
  return 1
}
field() { sed -n "s/^$1 = //p" "$2"; }
attr() { pycheck files.attr "$1" "$2" 2>/dev/null; }
# same <reference> <file>: every dataset under /flows and /runs equal, status complete, all runs complete.
same() { pycheck runs.equal_to_reference "$1" "$2"; }
# refused <name> <message regex>: exit 8 within 20 s with a message matching the regex.
refused() {
  local err
  err=$(grep 'reciprocity: error:' <<<"$out")
  if [[ $rc -ne 8 ]]; then fail "$1: exit status $rc, expected 8"; echo "$out" | tail -5
  elif ! grep -Eq -- "$2" <<<"$err"; then fail "$1: message does not match /$2/: ${err:-$out}"
  elif ((secs > 20)); then fail "$1: took $secs s"
  else echo "ok   $1: ${err:0:220}"; fi
}

run "${long[@]}" --out ref.h5
[[ $rc -eq 0 ]] || { echo "$out"; echo "reference run failed ($rc)"; exit 1; }

# --- two jobs on one file: the second is refused, naming the holder; the first completes ---
SLURM_JOB_ID=4242 start first.log "${long[@]}" --out L.h5
if wait_for_lock L.h5; then
  # Paused while the others try (a stopped process is alive): it cannot finish meanwhile.
  mapfile -t first_ranks < <(pgrep -P "$job")
  kill -STOP "${first_ranks[@]}"
  pid=$(field pid L.h5.lock)
  started=$(field start_time L.h5.lock)
  holder="host $host, pid $pid, Slurm job 4242, started $started \(run\)"
  run "${long[@]}" --out L.h5
  refused "second run" "results file \"L\.h5\" is in use by another job: $holder \(lock file \"$work/L\.h5\.lock\": process $pid still runs on $host\)"
  run "${long[@]}" --resume --out L.h5
  refused "second --resume" "\"L\.h5\" is in use by another job: $holder"
  run "${long[@]}" --force --out L.h5
  refused "second --force" "\"L\.h5\" is in use by another job: $holder"
  ln -s L.h5 alias.h5
  run "${long[@]}" --resume --out alias.h5
  refused "second job through a symlink" "\"alias\.h5\" is in use by another job: $holder"
  run --summarize L.h5 -q
  refused "--summarize while it runs" "\"L\.h5\" is in use by another job: $holder"
  run --merge ref.h5 L.h5 --out M.h5 -q
  refused "--merge from it while it runs" "--merge: \"L\.h5\" is in use by another job: $holder"
  [[ -e M.h5 || -e M.h5.lock ]] && fail "the refused merge left M.h5 or its lock"
  run --merge ref.h5 --force --out L.h5 -q
  refused "--merge into it while it runs" "\"L\.h5\" is in use by another job: $holder"
  kill -CONT "${first_ranks[@]}"
fi
wait_job
if [[ $rc -ne 0 ]]; then fail "the first job exited $rc"; tail -5 first.log
elif ! msg=$(same ref.h5 L.h5); then fail "the first job's file: $msg"
elif [[ -e L.h5.lock ]]; then fail "the first job left its lock"
else echo "ok   the first job completed unchanged: $msg, lock removed"; fi

# --- a SIGKILLed job's lock does not block the next --resume ---
for mode in mpirun rank0 rank1; do
  rm -f K.h5
  start kill.log "${long[@]}" --out K.h5
  wait_for_lock K.h5 || continue
  sleep 0.5
  mapfile -t ranks < <(pgrep -P "$job")
  case $mode in
    mpirun) kill -KILL "$job" "${ranks[@]}" ;;
    rank0) kill -KILL "$(field pid K.h5.lock)" ;;
    rank1) for p in "${ranks[@]}"; do [[ $p != "$(field pid K.h5.lock)" ]] && kill -KILL "$p"; done ;;
  esac
  wait_job
  # The ranks are gone or zombies (reaped late in a container) before the resume starts.
  for p in "${ranks[@]}"; do
    for _ in $(seq 100); do [[ $(ps -o stat= -p "$p" 2>/dev/null) == [^Z]* ]] || break; sleep 0.05; done
  done
  # (Rank 0 may have released the lock itself on an MPI error after its peer died; after a
  # SIGKILL of mpirun and every rank it cannot.)
  left=0
  [[ -e K.h5.lock ]] && left=1
  [[ $mode == mpirun && $left == 0 ]] && fail "SIGKILL ($mode): no lock left behind"
  run "${long[@]}" --resume --out K.h5
  if [[ $rc -ne 0 ]]; then fail "--resume after SIGKILL ($mode): exit $rc"; echo "$out" | tail -4
  elif ((left)) && ! grep -q "reciprocity: taking over the stale lock \"$work/K.h5.lock\" of a job that is gone: host $host, pid [0-9]*, started .* (process [0-9]* no longer runs on $host)" <<<"$out"; then
    fail "--resume after SIGKILL ($mode): no note on the stale lock"; echo "$out" | head -3
  elif ! msg=$(same ref.h5 K.h5); then fail "--resume after SIGKILL ($mode): $msg"
  elif [[ -e K.h5.lock ]]; then fail "--resume after SIGKILL ($mode) left its lock"
  else echo "ok   SIGKILL of $mode (lock left: $left), then --resume: $msg"; fi
done

# --- locks from other hosts and from an earlier run of a requeued Slurm job ---
run "${tiny[@]}" --out F.h5
cp F.h5 F0.h5
# foreign_lock <file> <host> [slurm job] [restart]: a lock record of a job elsewhere.
foreign_lock() {
  printf 'reciprocity lock\nhost = %s\npid = 777\npid_start = 1\nboot_id = b\nslurm_job_id = %s\nslurm_array = \nslurm_restart = %s\nstart_time = 2030-01-01T00:00:00Z\nstart_epoch = 1893456000\ntoken = feedfacefeedface\npurpose = run\n' \
    "$2" "${3:-}" "${4:-0}" > "$1.lock"
}
foreign_lock F.h5 node-elsewhere 99
run "${tiny[@]}" --resume --out F.h5
refused "lock of a live job on another host" "in use by another job: host node-elsewhere, pid 777, Slurm job 99, started 2030-01-01T00:00:00Z \(run\) \(lock file .*: it runs on another host, node-elsewhere, whose processes cannot be checked from here, and its last heartbeat is [0-9]+ s old: stale only after 300 s without one\)"
grep -q feedface F.h5.lock && cmp -s F.h5 F0.h5 || fail "the refused job changed the lock or the file"
touch -d '-10 minutes' F.h5.lock
run "${tiny[@]}" --resume --out F.h5
if [[ $rc -eq 0 ]] && grep -q 'taking over the stale lock .* of a job that is gone: host node-elsewhere, pid 777, Slurm job 99.* (its last heartbeat is 6[0-9][0-9] s old, more than the lease of 300 s)' <<<"$out" && [[ ! -e F.h5.lock ]]; then
  echo "ok   a lock from another host with no heartbeat for 10 minutes is taken over"
else
  fail "stale lock from another host: exit $rc"; echo "$out" | head -3
fi
foreign_lock F.h5 node-elsewhere
run "${tiny[@]}" --resume --break-lock --out F.h5
if [[ $rc -eq 0 ]] && grep -q -- '--break-lock: taking over the lock .* of host node-elsewhere, pid 777' <<<"$out" && [[ ! -e F.h5.lock ]]; then
  echo "ok   --break-lock takes over a live-looking lock"
else
  fail "--break-lock: exit $rc"; echo "$out" | head -3
fi
foreign_lock F.h5 node-dead 555 0
SLURM_JOB_ID=555 SLURM_RESTART_COUNT=1 run "${tiny[@]}" --resume --out F.h5
if [[ $rc -eq 0 ]] && grep -q 'taking over the stale lock .* Slurm job 555.* (it is an earlier run (restart 0) of this Slurm job 555, now requeued (restart 1))' <<<"$out"; then
  echo "ok   a requeued Slurm job takes over the lock of its earlier run at once"
else
  fail "requeued Slurm job: exit $rc"; echo "$out" | head -3
fi
foreign_lock F.h5 node-dead 555 0
SLURM_JOB_ID=555 run "${tiny[@]}" --resume --out F.h5
refused "another step of the same Slurm job run" "in use by another job: host node-dead, pid 777, Slurm job 555"
rm -f F.h5.lock

# --- a job whose lock is taken over writes nothing more ---
rm -f T.h5
start taken.log "${long[@]}" --out T.h5
if wait_for_lock T.h5; then
  mapfile -t t_ranks < <(pgrep -P "$job")
  kill -STOP "${t_ranks[@]}"
  foreign_lock T.h5.new node-elsewhere 1 && mv T.h5.new.lock T.h5.lock
  before=$(md5sum < T.h5.lock)
  kill -CONT "${t_ranks[@]}"
  wait_job
  if [[ $rc -ne 8 ]]; then fail "taken over: exit $rc, expected 8"; tail -5 taken.log
  elif ! grep -q "reciprocity: error: the lock \"$work/T.h5.lock\" was taken over by another job (host node-elsewhere, pid 777, Slurm job 1, started 2030-01-01T00:00:00Z (run)): this job, which held it since .*, writes nothing more; the runs it completed before stay in the file" taken.log; then
    fail "taken over: message"; grep error taken.log
  elif [[ $(md5sum < T.h5.lock) != "$before" ]]; then fail "taken over: the new holder's lock was changed"
  elif [[ $(attr T.h5 status) != running ]]; then fail "taken over: the job wrote its status ($(attr T.h5 status))"
  else echo "ok   a job whose lock is taken over stops with exit 8 and leaves the new lock"; fi
  run "${long[@]}" --resume --break-lock --out T.h5
  if [[ $rc -eq 0 ]] && msg=$(same ref.h5 T.h5); then echo "ok   ... and the file it leaves completes equal to the reference: $msg"
  else fail "resume of the taken-over file: exit $rc ${msg:-}"; echo "$out" | tail -3; fi
fi

# --- released on the error and stop paths ---
run "${tiny[@]}" --seed 5 --resume --out F.h5
[[ $rc -eq 2 && ! -e F.h5.lock ]] && echo "ok   lock released after a refused --resume (exit 2)" || fail "after exit $rc: lock left: $(ls)"
rm -f S.h5
start stop.log "${long[@]}" --out S.h5
if wait_for_lock S.h5; then
  pkill -TERM -P "$job"
  wait_job
  if [[ $rc -ne 0 && $(attr S.h5 status) == stopped && ! -e S.h5.lock ]]; then
    echo "ok   lock released after SIGTERM (status stopped, mpirun exit $rc)"
  else
    fail "SIGTERM: exit $rc, status $(attr S.h5 status), lock $(ls S.h5.lock 2>&1)"
  fi
fi
run --summarize F.h5 -q
[[ $rc -eq 0 && ! -e F.h5.lock ]] && echo "ok   --summarize takes and releases the lock" || fail "--summarize: exit $rc"
run --merge F.h5 --out merged.h5 -q
[[ $rc -eq 0 && -e merged.h5 && ! -e merged.h5.lock ]] && echo "ok   --merge takes and releases the lock" || fail "--merge: exit $rc"
run --merge F.h5 --force --out F.h5 -q
[[ $rc -eq 2 ]] && grep -q 'is both an input and --out' <<<"$out" && echo "ok   --merge refuses an input that is also --out" ||
  fail "--merge into an input: exit $rc: $out"

# --- documented ---
"$bin" --help > help.txt
grep -q -- '--break-lock' help.txt && grep -q '8 the results file is$' help.txt && echo "ok   --help documents --break-lock and exit 8" ||
  fail "--help lacks --break-lock or exit status 8"

finish
