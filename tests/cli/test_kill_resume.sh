#!/usr/bin/env bash
# Crash safety of a sweep: a job killed at any moment (SIGKILL of mpirun and its ranks, or of
# one rank) and then rerun with --resume, perhaps killed again, must end with a results file
# equal, run by run, to an uninterrupted sweep: every dataset under /flows and /runs equal
# (exactly or to 1e-12 relative), /runs/complete all 1, status "complete". Every run a killed
# file flags complete must already hold its final rows (rows are flushed before the flag).
# A kill while the file is being created (aimed at, not random) must be resumable too.
# Then SIGTERM (what Slurm sends before the time limit): a clean stop (status "stopped", exit
# status non-zero, a message saying to rerun with --resume), a file h5dump opens, and a
# --resume that completes it with the reference contents.
# Usage: test_kill_resume.sh <reciprocity binary> <shared data dir> <source dir>
# Set KILL_SEED=<n> to replay the random kill moments of an earlier run (printed at the start).
set -u
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)  # before the cd below: $0 may be relative
work=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work" || exit 1
# mpirun waits 1 s between SIGTERM and SIGKILL of the other ranks when one exits non-zero;
# most runs here fail on purpose, so skip the wait.
export OMPI_MCA_odls_base_sigkill_timeout=${OMPI_MCA_odls_base_sigkill_timeout:-0}
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }

seed=${KILL_SEED:-$(( $(date +%s) % 32768 ))}
RANDOM=$seed
echo "kill moments drawn with KILL_SEED=$seed"

# ~1.2 s on 2 ranks: 24 runs, one per rank at a time, so a kill lands between or inside runs.
sweep=(--synthetic-users 200 --synthetic-items 100 --synthetic-ratings 20000 --steps 300 --learning-rate 2
       --splits 12 --seeds 2)
quiet=(-q)

now_ms() { date +%s%3N; }

# start <log> <args...>: mpirun -n 2 in the background; its pid in $job.
start() {
  local log=$1
  shift
  mpirun -n 2 --oversubscribe "$bin" "${sweep[@]}" "${quiet[@]}" "$@" > "$log" 2>&1 &
  job=$!
  pids+=("$job")
}

# finish: wait for $job (at most 60 s: a hang is a failure); its exit status in $rc.
finish() {
  local waited=0
  while kill -0 "$job" 2>/dev/null && ((waited < 600)); do sleep 0.1; waited=$((waited + 1)); done
  if kill -0 "$job" 2>/dev/null; then
    fail "mpirun $job still running after 60 s (hang); killing it"
    kill -KILL $(pgrep -P "$job") "$job" 2>/dev/null
  fi
  wait "$job" 2>/dev/null  # (no "Killed" job notice)
  rc=$?
}

# hard_kill <mode>: mpirun = SIGKILL mpirun and its ranks together (a lost node / a killed job
# step); rank = SIGKILL one rank, mpirun tears the rest down.
hard_kill() {
  local ranks
  mapfile -t ranks < <(pgrep -P "$job")
  if [[ $1 == rank && ${#ranks[@]} -gt 0 ]]; then
    kill -KILL "${ranks[RANDOM % ${#ranks[@]}]}" 2>/dev/null
  else
    kill -KILL "$job" "${ranks[@]}" 2>/dev/null
  fi
  finish
  # No rank may outlive the kill and keep writing while the next attempt runs.
  local p
  for p in "${ranks[@]}"; do
    # Gone or a zombie (an orphan is reparented; its reaper may be slow in a container).
    for _ in $(seq 50); do [[ $(ps -o stat= -p "$p" 2>/dev/null) == [^Z]* ]] || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
  done
}

sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

# compare <reference.h5> <file.h5> [partial]: tests/cli/compare_results.py.
compare() { /usr/bin/python3 "$here/compare_results.py" "$@"; }

# pycheck <module>.<check> [args...]: a check of tests/cli/checks (lib.sh's; this test has its own finish).
pycheck() { /usr/bin/python3 "$here/checks" "$@"; }
status_of() { pycheck files.attr "$1" status 2>/dev/null; }

# --- the reference, and the sweep's duration (kill moments are drawn within it) ---
t0=$(now_ms)
start ref.log --out ref.h5
finish
duration=$(($(now_ms) - t0))
if [[ $rc -ne 0 ]]; then cat ref.log; echo "reference sweep failed ($rc)"; exit 1; fi
echo "reference sweep: ${duration} ms"

# --- SIGKILL at random moments, then --resume (itself killed at random) until complete ---
modes=(mpirun rank mpirun rank)
for cycle in 0 1 2 3; do
  out=kill$cycle.h5
  mode=${modes[cycle]}
  delay=$((RANDOM * duration / 32768))
  start kill$cycle.log --out "$out"
  sleep_ms "$delay"
  hard_kill "$mode"
  story="cycle $cycle: SIGKILL ($mode) at ${delay} ms, exit $rc"
  if [[ -e $out ]]; then
    compare ref.h5 "$out" partial > cmp.log
    case $? in
      0) story+=", $(grep -o '[0-9]* complete run' cmp.log | cut -d' ' -f1) run(s) kept" ;;
      3) story+=", file unreadable" ;;
      *) fail "cycle $cycle: a run flagged complete after the kill differs from the reference"; cat cmp.log ;;
    esac
  else
    story+=", no file yet"
  fi
  for attempt in 1 2 3 4 5; do
    # The first file may not exist yet (killed before creating it): then start afresh.
    resume=(--resume)
    [[ -e $out ]] || resume=()
    start kill$cycle.r$attempt.log --out "$out" "${resume[@]}"
    # Kill the first resume in odd cycles, and at random otherwise (it may finish first).
    if ((attempt == 1 && cycle % 2 == 1 || attempt <= 2 && RANDOM % 2)); then
      delay=$((RANDOM * duration / 32768))
      sleep_ms "$delay"
      if kill -0 "$job" 2>/dev/null; then
        hard_kill "$mode"
        story+="; rerun $attempt (${resume[*]:-fresh}) killed at ${delay} ms (exit $rc)"
        continue
      fi
    fi
    finish
    story+="; rerun $attempt (${resume[*]:-fresh}) exit $rc"
    [[ $rc -eq 0 ]] && break
    if [[ $rc -ne 0 ]]; then
      fail "cycle $cycle: uninterrupted run ${resume[*]:-(fresh)} exited $rc"
      tail -5 kill$cycle.r$attempt.log
      break
    fi
  done
  echo "$story"
  if compare ref.h5 "$out" > cmp.log; then
    echo "ok   cycle $cycle: $(tail -1 cmp.log)"
  else
    fail "cycle $cycle: resumed file differs from the reference"; cat cmp.log
  fi
done

# --- SIGKILL while the results file is being created ---
# The random moments above rarely fall in the few milliseconds between the file's creation and
# its first flush; aim at them: spin until --out appears, then kill everything. A Slurm job
# preempted there and requeued (the scripts of jobs/ add --resume when the file exists) must
# still complete.
for attempt in 1 2 3; do
  out=create$attempt.h5
  start create$attempt.log --out "$out"
  ranks=()
  t_end=$((SECONDS + 20))
  while ((${#ranks[@]} < 2 && SECONDS < t_end)) && kill -0 "$job" 2>/dev/null; do mapfile -t ranks < <(pgrep -P "$job"); done
  while [[ ! -e $out ]] && ((SECONDS < t_end)) && kill -0 "$job" 2>/dev/null; do :; done
  kill -KILL "$job" "${ranks[@]}" 2>/dev/null
  finish
  size=$(stat -c %s "$out" 2>/dev/null || echo none)
  resume=(--resume)
  [[ -e $out ]] || resume=()
  start create$attempt.r.log --out "$out" "${resume[@]}"
  finish
  if [[ $rc -ne 0 ]]; then
    fail "killed while creating $out (left $size bytes): ${resume[*]:-(fresh)} exited $rc: $(grep -m1 'error' create$attempt.r.log)"
  elif compare ref.h5 "$out" > cmp.log; then
    echo "ok   killed while creating the file (left $size bytes), then ${resume[*]:-(fresh)}: $(tail -1 cmp.log)"
  else
    fail "killed while creating $out, then resumed: differs from the reference"; cat cmp.log
  fi
done

# --- SIGTERM: a clean stop, then --resume completes it ---
# Signal the ranks, as srun does for a Slurm job step (Open MPI's mpirun does not forward
# SIGTERM to its ranks). The moment is counted in runs, not time, so that it falls while runs
# remain whatever the machine's load: wait for the per-run lines (flushed as each run completes;
# the handlers are installed before the first run) of $term_after runs, then signal at once.
term_after=2
quiet=()  # the per-run lines
start term.log --out term.h5
quiet=(-q)
t_end=$((SECONDS + 300))
seen=0
while ((SECONDS < t_end)) && kill -0 "$job" 2>/dev/null; do
  seen=$(grep -c '^run split' term.log 2>/dev/null); seen=${seen:-0}
  ((seen >= term_after)) && break
  sleep 0.05
done
mapfile -t ranks < <(pgrep -P "$job")
if ((seen < term_after)) || ! kill -0 "$job" 2>/dev/null; then
  fail "SIGTERM: the sweep ended or never reached $term_after runs ($seen seen) before the signal"
fi
kill -TERM "${ranks[@]}" 2>/dev/null
finish
echo "SIGTERM sent after $seen of 24 per-run lines"
st=$(status_of term.h5)
done_runs=$(pycheck files.complete_runs term.h5 2>/dev/null)
echo "SIGTERM to the ranks: exit $rc, status \"$st\", $done_runs of 24 runs complete"
[[ $rc -ne 0 ]] || fail "SIGTERM: exit status 0"
[[ $st == stopped ]] || fail "SIGTERM: status \"$st\", expected \"stopped\""
grep -q 'stopped on signal 15.*rerun with --resume' term.log || { fail "SIGTERM: no 'stopped on signal 15 ... rerun with --resume' message"; tail -5 term.log; }
grep -Eq 'Segmentation|core dumped|MPI_ABORT' term.log && fail "SIGTERM: crash reported: $(grep -E 'Segmentation|core dumped|MPI_ABORT' term.log | head -1)"
h5dump -H term.h5 > /dev/null 2>&1 || fail "SIGTERM: h5dump -H cannot open the stopped file"
compare ref.h5 term.h5 partial > cmp.log || { fail "SIGTERM: a run flagged complete differs"; cat cmp.log; }
start term.r.log --out term.h5 --resume
finish
[[ $rc -eq 0 ]] || { fail "SIGTERM: --resume exited $rc"; tail -5 term.r.log; }
if compare ref.h5 term.h5 > cmp.log; then echo "ok   SIGTERM then --resume: $(tail -1 cmp.log)"; else fail "SIGTERM: resumed file differs"; cat cmp.log; fi

echo "$fails failure(s)"
exit $((fails > 0))
