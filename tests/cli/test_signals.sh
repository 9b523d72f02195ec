#!/usr/bin/env bash
# Signals other than SIGTERM: SIGHUP stops a sweep as cleanly as SIGTERM (exit 7, status
# "stopped", every completed run kept, --resume completes it); a file-size limit (ulimit -f)
# below what the results file can grow to is refused before anything is written (exit 4 naming
# the limit; SIGXFSZ never kills a rank), and a limit above it does not matter.
# Stops during 5-s runs (Ctrl-C and SIGTERM to tools/mpirun-graceful, SIGUSR1 to mpirun and to
# the ranks): stopped within the run, no lock left, --resume identical. SIGTERM or Ctrl-C to
# bare mpirun (exit 1): the same when the ranks stop within the second Open MPI gives them, else
# killed (the file keeps its lock), and --resume identical in any case.
# Usage: test_signals.sh <reciprocity binary> <shared data dir> <source dir>
source "$(dirname "$0")/lib.sh" "$@"
py=/usr/bin/python3
long=(--splits 60 --seeds 2)

# start_and_signal <signal> <target: ranks|mpirun> <out>: a long sweep, signalled once its first
# run is done; exit status in $rc, output in $out_text.
start_and_signal() {
  local sig=$1 target=$2 out=$3
  timeout 120 mpirun -n 2 --oversubscribe "$bin" "${long[@]}" --out "$out" > "$out.log" 2>&1 &
  local job=$!
  for _ in $(seq 600); do grep -q '^run split' "$out.log" 2>/dev/null && break; sleep 0.1; done
  if [[ $target == ranks ]]; then pkill "-$sig" -f "^$bin ${long[*]} --out $out"; else pkill "-$sig" -f "^mpirun -n 2 --oversubscribe $bin ${long[*]} --out $out"; fi
  wait "$job"
  rc=$?
  out_text=$(cat "$out.log")
}
status_of() { pycheck files.attr "$1" status; }

start_and_signal HUP ranks hup.h5
if [[ $rc -eq 7 ]] && grep -q 'stopped on signal 1 ' <<<"$out_text" && [[ $(status_of hup.h5) == stopped ]]; then
  echo "ok   SIGHUP: exit 7, the file's status 'stopped'"
else
  fail "SIGHUP: exit $rc, status $(status_of hup.h5 2>&1)"; tail -3 hup.h5.log
fi
timeout 300 mpirun -n 2 --oversubscribe "$bin" "${long[@]}" --out hup.h5 --resume --quiet > /dev/null 2>&1 &&
  [[ $(status_of hup.h5) == complete ]] && echo "ok   --resume after SIGHUP completes the file" || fail "--resume after SIGHUP"

# Bare mpirun signals its ranks SIGTERM a second after its own SIGTERM, SIGKILL a second later:
# when the disk is busy (fsync taking a second: seen while a build ran beside) they may be
# killed before they stop.
start_and_signal TERM mpirun term.h5
st=$(status_of term.h5 2>&1)
if [[ $rc -eq 1 && $st == stopped && ! -e term.h5.lock ]]; then
  echo "ok   SIGTERM to mpirun: exit 1, the file's status 'stopped', no lock left"
elif [[ $rc -eq 1 && ($st == stopped || $st == running) && -e term.h5.lock ]]; then
  echo "ok   SIGTERM to mpirun: exit 1, the ranks killed by mpirun before they had stopped (status '$st', its lock left)"
else
  fail "SIGTERM to mpirun: exit $rc, status $st"; tail -3 term.h5.log
fi

# Long runs (about 5 s each): a stop reaches the runs in flight at their next step, not at the
# next run boundary. The file says "stopped", no lock is left, the run in flight is abandoned,
# and --resume gives the file of an uninterrupted sweep, run by run. The stops, each sent as a
# user or a system sends it (jobs/README.md, "Graceful stop", has the exit statuses):
#   INT terminal: Ctrl-C to tools/mpirun-graceful, i.e. to its process group (exit 7);
#   TERM launcher: SIGTERM to tools/mpirun-graceful, as a batch system sends it (exit 7);
#   USR1 mpirun: forwarded to the ranks (exit 7); USR1 ranks: Slurm's --signal=USR1@T (exit 7);
#   INT mpirun: Ctrl-C to bare mpirun (exit 1, mpirun's), which signals the ranks SIGTERM a
#     second later and SIGKILL a second after that: the ranks stop within that second, or, when
#     the machine is too busy for that (jobs/README.md: 2 of 53 tries), they are killed: the file
#     then keeps its lock (status "running", or "stopped" when killed just after writing it),
#     and only --resume is checked.
slow=(--splits 2 --seeds 1 --steps 6000 --progress-interval 0.5)
timeout 300 mpirun -n 2 --oversubscribe "$bin" -q "${slow[@]}" --out slow_ref.h5 > slow_ref.log 2>&1 ||
  { fail "the uninterrupted slow sweep"; tail -3 slow_ref.log; }
launcher=$src/tools/mpirun-graceful
now_ms() { date +%s%3N; }
running() {  # running <pid...>: any of them running (not ended, nor a zombie not yet reaped)
  local p state
  for p; do read -r _ _ state _ < "/proc/$p/stat" 2> /dev/null && [[ $state != Z ]] && return 0; done
  return 1
}
# stop_long_run <signal> <target> <expected exit status> [or-killed]: the slow sweep, sent
# <signal> during its first runs; checks the file and its resume, and reports when the lock was
# gone and when every rank had ended (mpirun may return before its ranks have ended: seen on a
# fresh Debian root 11 ms after SIGINT). or-killed: ranks killed by mpirun may leave the file
# "running" with its lock.
stop_long_run() {
  local sig=$1 target=$2 want=$3 killed_ok=${4:-} out=slow_$1_$2.h5 job t0 lock_ms= ms rc st
  local ranks="^$bin ${slow[*]} --out $out"
  if [[ $target == mpirun || $target == ranks ]]; then
    timeout 300 mpirun -n 2 --oversubscribe "$bin" "${slow[@]}" --out "$out" > "$out.log" 2>&1 &
    job=$!
  else
    set -m  # as a terminal starts it: a process group of its own, SIGINT not ignored
    "$launcher" -n 2 --oversubscribe "$bin" "${slow[@]}" --out "$out" > "$out.log" 2>&1 &
    job=$!
    set +m
  fi
  for _ in $(seq 600); do grep -q ': step [0-9]*/' "$out.log" 2>/dev/null && break; sleep 0.1; done
  local rank_pids mpirun_pid
  rank_pids=$(pgrep -f "$ranks")
  mpirun_pid=$(pgrep -f "^mpirun -n 2 --oversubscribe $bin ${slow[*]} --out $out")
  t0=$(now_ms)
  case $target in
    mpirun) kill "-$sig" $mpirun_pid ;;
    ranks) kill "-$sig" $rank_pids ;;
    terminal) kill "-$sig" -- "-$job" ;;  # Ctrl-C: the terminal signals its foreground process group
    launcher) kill "-$sig" "$job" ;;
  esac
  for _ in $(seq 30000); do
    [[ -z $lock_ms && ! -e $out.lock ]] && lock_ms=$(($(now_ms) - t0))
    running $rank_pids || break
    sleep 0.01
  done
  ms=$(($(now_ms) - t0))
  [[ -z $lock_ms && ! -e $out.lock ]] && lock_ms=$ms  # removed as the ranks ended
  for _ in $(seq 300); do kill -0 "$job" 2> /dev/null || break; sleep 0.1; done
  kill -KILL "$job" 2> /dev/null && fail "SIG$sig to $target: still running 30 s after its ranks ended"
  wait "$job"
  rc=$?
  st=$(status_of "$out" 2>&1)
  if [[ $st == stopped && ! -e $out.lock && $rc -eq $want ]] && ! grep -q '^run split' "$out.log" &&
     grep -q 'stopped on signal' "$out.log"; then
    echo "ok   SIG$sig to $target during a 5-s run: exit $rc, status 'stopped', lock gone after $lock_ms ms, ranks ended after $ms ms, the run in flight abandoned"
  elif [[ -n $killed_ok && ($st == running || $st == stopped) && -e $out.lock && $rc -eq $want ]] &&
       ! grep -q '^run split' "$out.log"; then
    echo "ok   SIG$sig to $target during a 5-s run: exit $rc, the ranks killed by mpirun before they had stopped (ended after $ms ms, status '$st', its lock left)"
  else
    fail "SIG$sig to $target during a 5-s run: exit $rc (expected $want) after $ms ms, status '$st', lock $(ls "$out.lock" 2>&1)"
    tail -4 "$out.log"
  fi
  timeout 300 mpirun -n 2 --oversubscribe "$bin" -q "${slow[@]}" --out "$out" --resume > "$out.resume.log" 2>&1 &&
    compare slow_ref.h5 "$out" > cmp.log && echo "ok   --resume after SIG$sig to $target: $(cat cmp.log)" ||
    { fail "--resume after SIG$sig to $target"; tail -3 "$out.resume.log"; cat cmp.log; }
}
stop_long_run INT terminal 7
stop_long_run TERM launcher 7
stop_long_run USR1 mpirun 7
stop_long_run USR1 ranks 7
stop_long_run INT mpirun 1 or-killed

# tools/mpirun-graceful's own logic, with a stand-in for mpirun that logs the signals it gets:
# mpirun runs in a session of its own (the terminal's SIGINT does not reach it), the first stop
# becomes SIGUSR1, the same stop delivered twice within a second (to the process and to its
# group: a repeat within a second) is sent once, a stop a second later becomes SIGTERM; mpirun's arguments and exit
# status are passed through.
cat > fake_mpirun <<'EOF'
#!/bin/bash
for s in INT TERM HUP USR1; do trap "echo $s >> got.log" $s; done
ps -o pgid= -p $$ > pgid.log
printf '%s|' "$@" > args.log
while [[ $(tail -1 got.log 2> /dev/null) != TERM ]]; do sleep 0.05; done
exit 42
EOF
chmod +x fake_mpirun
set -m
MPIRUN=./fake_mpirun "$launcher" -n 2 "a b" c > fake.log 2>&1 &
job=$!
set +m
for _ in $(seq 100); do [[ -e args.log ]] && break; sleep 0.1; done
kill -INT -- "-$job"
sleep 0.3
kill -INT "$job"
sleep 1.2
before=$(tr '\n' ' ' < got.log 2> /dev/null)
kill -INT -- "-$job"
for _ in $(seq 100); do kill -0 "$job" 2> /dev/null || break; sleep 0.1; done
kill -KILL "$job" 2> /dev/null
wait "$job"
rc=$?
got=$(tr '\n' ' ' < got.log 2> /dev/null)
if [[ $rc -eq 42 && $before == "USR1 " && $got == "USR1 TERM " && $(($(cat pgid.log))) -ne $job && $(cat args.log) == "-n|2|a b|c|" ]] && grep -q 'SIGINT again' fake.log; then
  echo "ok   tools/mpirun-graceful: mpirun in a process group of its own; Ctrl-C -> SIGUSR1 to mpirun, a repeat within 0.3 s ignored, again 1.5 s later -> SIGTERM; arguments and exit status 42 passed"
else
  fail "tools/mpirun-graceful: exit $rc, mpirun got '$before' then '$got', arguments '$(cat args.log 2>&1)', process group $(cat pgid.log 2>&1) (the terminal's: $job)"; cat fake.log
fi

# A file-size limit on the ranks (not on mpirun, whose own files it would break).
limited() { timeout 60 mpirun -n 2 --oversubscribe bash -c 'ulimit -f "$1"; shift; exec "$@"' _ "$1" "$bin" "${@:2}" 2>&1; }
out=$(limited 4000 --splits 300 --steps 5 --out big.h5 --quiet)
rc=$?
if [[ $rc -eq 4 ]] && grep -q 'reciprocity: error: writing results file "big.h5": the file-size limit of rank . (ulimit -f) is 4000 KiB' <<<"$out" &&
   [[ ! -e big.h5 && ! -e big.h5.partial ]]; then
  echo "ok   a file-size limit below the file's size: exit 4 naming it, nothing written"
else
  fail "file-size limit: exit $rc"; echo "$out" | grep -v '^\s*$' | head -4
fi
grep -q 'signal 25\|File size limit exceeded' <<<"$out" && fail "a rank was killed by SIGXFSZ"
out=$(limited 100000 --splits 3 --steps 5 --out small.h5 --quiet)
rc=$?
[[ $rc -eq 0 && $(status_of small.h5) == complete ]] && echo "ok   a file-size limit above the file's size does not matter" ||
  { fail "file-size limit above: exit $rc"; echo "$out" | tail -3; }
finish
