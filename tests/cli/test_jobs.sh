#!/usr/bin/env bash
# The Slurm scripts of jobs/: they parse (bash -n), carry the requeue headers, and run, both as
# plain scripts (mpirun) and under a fake Slurm (sbatch/srun/scontrol shims on PATH that log
# their arguments; the fake sbatch runs the script at once, every array index of --array, and
# honours afterok dependencies), with tiny settings through EXTRA_ARGS on the shared data:
# - each experiment script writes a complete file (MovieLens skipped without ml-100k/);
# - jobs/submit_sweep.sh submits the array, then the merge with afterok:<array id>, and the
#   merged file equals one direct run of the whole sweep;
# - a script warned by SIGUSR1 (Slurm's time-limit warning) stops its step through `scancel
#   --signal=TERM <job>`, exits 7 and calls `scontrol requeue`; run again, it resumes (not
#   starts over) and ends equal to a direct run; one ended by SIGTERM (scancel) exits 7 without
#   a requeue; without Slurm, Ctrl-C (SIGINT to the script's process group) stops it, exit 7.
#   tests/cli/test_slurm.sh runs the same on a real Slurm.
# Usage: test_jobs.sh <reciprocity binary> <shared data dir> <source dir>
source "$(dirname "$0")/lib.sh" "$@"
bg=
trap '[[ -n $bg ]] && kill -KILL $bg 2>/dev/null; rm -rf "$work"' EXIT
export OMPI_MCA_odls_base_sigkill_timeout=${OMPI_MCA_odls_base_sigkill_timeout:-0}
ok() { echo "ok   $*"; }

scripts=("$src"/jobs/*.sbatch "$src"/jobs/*.sh)
[[ ${#scripts[@]} -ge 6 ]] || fail "expected the jobs/ scripts, found: ${scripts[*]}"

# --- syntax and headers ---
for s in "${scripts[@]}"; do
  bash -n "$s" || fail "bash -n $s"
done
for s in movielens diabetes breast_cancer array_sweep regimes; do
  f=$src/jobs/$s.sbatch
  for h in '--signal=B:USR1@120' '--requeue' '--open-mode=append'; do
    grep -q "^#SBATCH $h" "$f" || fail "$s.sbatch: no '#SBATCH $h' header"
  done
  grep -q '^source "$repo/jobs/launch.sh"' "$f" || fail "$s.sbatch: does not source jobs/launch.sh"
done
grep -q 'scontrol requeue' "$src/jobs/launch.sh" || fail "jobs/launch.sh: no scontrol requeue"
ok "bash -n and #SBATCH headers of ${#scripts[@]} scripts"
if [[ ! -d $data/health ]]; then
  echo "SKIP running the scripts: no health data in $data (configure with -DRECIPROCITY_TEST_DATA=<dir>)"
  ((fails)) && exit 1
  exit 77
fi

# --- fake Slurm ---
shims=$work/shims
mkdir -p "$shims"
export SHIM_DIR=$shims
cat > "$shims/sbatch" <<'EOF'
#!/bin/bash
# Fake sbatch: log, then run the script now, once per --array index, with SLURM_* set.
echo "sbatch $*" >> "$SHIM_DIR/calls.log"
parsable=0 array= deps=
while (($#)); do
  case $1 in
    --parsable) parsable=1 ;;
    --array=*) array=${1#*=} ;;
    --array | -a) array=$2; shift ;;
    --dependency=*) deps=${1#*=} ;;
    --dependency | -d) deps=$2; shift ;;
    -*) ;;
    *) break ;;
  esac
  shift
done
script=$1
shift
[[ -n $array ]] || array=$(sed -n 's/^#SBATCH --array=\([^ ]*\).*/\1/p' "$script" | head -1)
id=$(($(cat "$SHIM_DIR/next_id" 2> /dev/null || echo 5000) + 1))
echo "$id" > "$SHIM_DIR/next_id"
if ((parsable)); then echo "$id"; else echo "Submitted batch job $id"; fi
# afterok:<id>[:<id>...]: run only when every one of those jobs succeeded.
if [[ $deps == afterok:* ]]; then
  IFS=: read -ra need <<< "${deps#afterok:}"
  for d in "${need[@]}"; do
    if [[ $(cat "$SHIM_DIR/job_$d" 2> /dev/null) != ok ]]; then
      echo "job $id: dependency afterok:$d never satisfied" >> "$SHIM_DIR/calls.log"
      echo failed > "$SHIM_DIR/job_$id"
      exit 0
    fi
  done
fi
indices=()
if [[ -n $array ]]; then
  IFS=, read -ra parts <<< "${array%%%*}"
  for p in "${parts[@]}"; do
    if [[ $p == *-* ]]; then for ((i = ${p%-*}; i <= ${p#*-}; i++)); do indices+=("$i"); done; else indices+=("$p"); fi
  done
fi
status=ok
run() {
  SLURM_SUBMIT_DIR=$PWD SLURM_NTASKS=2 "$@" bash "$script" "${args[@]}" >> "$SHIM_DIR/job_$id.out" 2>&1 || status=failed
}
args=("$@")
if ((${#indices[@]})); then
  for i in "${indices[@]}"; do
    run env SLURM_JOB_ID=$((id * 100 + i)) SLURM_ARRAY_JOB_ID=$id SLURM_ARRAY_TASK_ID=$i
  done
else
  run env SLURM_JOB_ID=$id
fi
echo "$status" > "$SHIM_DIR/job_$id"
EOF
cat > "$shims/srun" <<'EOF'
#!/bin/bash
# Fake srun: `--mpi=list` lists pmix; else log, drop --mpi=, run the step with mpirun (its pid
# in step.pid, for the fake scancel).
if [[ $1 == --mpi=list ]]; then printf 'MPI plugin types are...\n\tpmix\n\tnone\n'; exit 0; fi
echo "srun $*" >> "$SHIM_DIR/calls.log"
[[ $1 == --mpi=* ]] && shift
mpirun -n "${SLURM_NTASKS:-2}" --oversubscribe "$@" &
p=$!
echo "$p" > "$SHIM_DIR/step.pid"
wait $p
EOF
cat > "$shims/scancel" <<'EOF'
#!/bin/bash
# Fake scancel: log; --signal=TERM <job> (the steps' tasks): SIGTERM to the ranks of the step.
echo "scancel $*" >> "$SHIM_DIR/calls.log"
[[ $1 == --signal=TERM && -s $SHIM_DIR/step.pid ]] && pkill -TERM -P "$(cat "$SHIM_DIR/step.pid")"
exit 0
EOF
cat > "$shims/scontrol" <<'EOF'
#!/bin/bash
echo "scontrol $*" >> "$SHIM_DIR/calls.log"
EOF
chmod +x "$shims"/*
export PATH=$shims:$PATH
export RECIPROCITY=$bin DATA=$data
unset SLURM_JOB_ID SLURM_ARRAY_TASK_ID SLURM_SUBMIT_DIR

# check_complete <file> [marginal splits]: status "complete", every run complete, and the
# Marginal runs of the first <marginal splits> splits complete.
check_complete() { pycheck runs.complete "$@"; }

# same <a.h5> <b.h5>: every dataset under /flows and /runs equal (exactly or 1e-12 relative).
same() { pycheck runs.equal_flows "$@"; }

# --- the experiment scripts as plain scripts (no Slurm: mpirun) ---
export OUT=$work/plain
for s in diabetes breast_cancer; do
  if EXTRA_ARGS="--splits 2 --steps 20 -q" bash "$src/jobs/$s.sbatch" > "$s.log" 2>&1; then
    if r=$(check_complete "$OUT/$s.h5" 0); then ok "$s.sbatch (plain): $r"; else fail "$s.sbatch: $r"; fi
  else
    fail "$s.sbatch (plain) exited $?"; tail -5 "$s.log"
  fi
done
if [[ -f $data/ml-100k/u.data ]]; then
  if MARGINAL_SPLITS=1 EXTRA_ARGS="--splits 2 --steps 3 -q" bash "$src/jobs/movielens.sbatch" > ml.log 2>&1; then
    r1=$(check_complete "$OUT/ml-100k.h5") || fail "movielens.sbatch: $r1"
    r2=$(check_complete "$OUT/ml-100k_marginal.h5" 1) || fail "movielens.sbatch: $r2"
    ok "movielens.sbatch (plain): $r1; $r2"
  else
    fail "movielens.sbatch (plain) exited $?"; tail -5 ml.log
  fi
else
  skip "movielens.sbatch: no $data/ml-100k/u.data"
fi
grep -q '^srun' "$shims/calls.log" 2> /dev/null && fail "a plain run (no SLURM_JOB_ID) used srun"

# --- an experiment script through (fake) sbatch: srun is used ---
export OUT=$work/slurm
: > "$shims/calls.log"
id=$(cd "$src" && EXTRA_ARGS="--splits 2 --steps 20 -q" sbatch --parsable jobs/diabetes.sbatch)  # from the repository
if [[ $(cat "$shims/job_$id") == ok ]] && grep -q "^srun .*--dataset diabetes" "$shims/calls.log" &&
   r=$(check_complete "$OUT/diabetes.h5" 0); then
  ok "sbatch diabetes.sbatch: job $id ran its step with srun; $r"
else
  fail "sbatch diabetes.sbatch: job $id $(cat "$shims/job_$id" 2> /dev/null)"; cat "$shims/calls.log" "$shims/job_$id.out" | tail -8
fi

# --- submitted from outside the repository: a clear refusal, not a job without its checks ---
# (every script: one message, exit 2, nothing created there: no results/)
mkdir -p outside
for s in "$src"/jobs/*.sbatch; do
  (cd outside && SLURM_SUBMIT_DIR=$work/outside OUT= bash "$s" > ../outside.log 2>&1)
  rc=$?
  if [[ $rc -eq 2 && $(wc -l < outside.log) -eq 1 && -z $(ls outside) ]] && grep -q "submit from the repository" outside.log; then :
  else fail "${s##*/} submitted outside the repository: exit $rc, $(head -n 3 outside.log), created: $(ls outside)"; fi
done
ok "a job submitted outside the repository is refused (exit 2) with one message naming jobs/preflight.sh, nothing created"

# --- the array sweep and its merge, through submit_sweep.sh ---
export OUT=$work/sweep
: > "$shims/calls.log"
sweep="--dataset diabetes --data $data/health"
if SPLITS=6 CHUNK=2 NAME=sw SWEEP="$sweep" EXTRA_ARGS="--steps 30 -q" bash "$src/jobs/submit_sweep.sh" > submit.log 2>&1; then
  mapfile -t sb < <(grep '^sbatch' "$shims/calls.log")
  array_id=$(grep -o 'array job [0-9]*' submit.log | grep -o '[0-9]*$')
  if [[ ${#sb[@]} -eq 2 && ${sb[0]} == *--parsable*--array=0-2*array_sweep.sbatch* &&
        ${sb[1]} == *--parsable*--dependency=afterok:$array_id*merge.sbatch* && -n $array_id ]]; then
    ok "submit_sweep.sh: array 0-2 (job $array_id), merge with --dependency=afterok:$array_id"
  else
    fail "submit_sweep.sh: unexpected submissions:"; printf '  %s\n' "${sb[@]}"; cat submit.log
  fi
  n=$(grep -c -- '^srun .*--split-range [024]:[246]' "$shims/calls.log")
  [[ $n -eq 3 ]] || { fail "array tasks: $n srun calls with --split-range, expected 3"; grep '^srun' "$shims/calls.log"; }
  mpirun -n 2 --oversubscribe "$bin" $sweep --splits 6 --steps 30 -q --out direct_sweep.h5 > /dev/null 2>&1 || fail "direct sweep run"
  if r=$(check_complete "$OUT/sw.h5") && r2=$(same direct_sweep.h5 "$OUT/sw.h5"); then
    ok "merged sweep: $r; equal to a direct run: $r2"
  else
    fail "merged sweep: $r ${r2:-}"; tail -5 "$shims"/job_*.out
  fi
else
  fail "submit_sweep.sh exited $?"; cat submit.log; tail -5 "$shims"/job_*.out
fi

# --- SIGUSR1 (Slurm's warning before the time limit): stop, requeue, rerun: resumes ---
export OUT=$work/stop
: > "$shims/calls.log"
stop_args="--splits 8 --steps 200"
# signal_sbatch <job id> <log> <signal>: diabetes.sbatch in the background as Slurm job <job id>,
# sent <signal> once its first run is done; its exit status in $rc.
signal_sbatch() {
  SLURM_JOB_ID=$1 EXTRA_ARGS="$stop_args" bash "$src/jobs/diabetes.sbatch" > "$2" 2>&1 &
  bg=$!
  for _ in $(seq 300); do grep -qs '^run split' "$2" && break; sleep 0.1; done
  kill "-$3" "$bg"
  for _ in $(seq 600); do kill -0 "$bg" 2> /dev/null || break; sleep 0.1; done
  wait "$bg"
  rc=$?
  bg=
}
signal_sbatch 4242 stop1.log USR1
st=$(pycheck files.value "$OUT/diabetes.h5" "f.attrs['status'], int(f['runs/complete'][...].sum()), int(f['runs/marginal_complete'][...].sum())" 2>&1)
if [[ $rc -eq 7 ]] && grep -q '^scancel --signal=TERM 4242' "$shims/calls.log" && grep -q '^scontrol requeue 4242' "$shims/calls.log" &&
   [[ $st == "stopped "* ]] && [[ $st != "stopped 8 8" ]]; then
  ok "SIGUSR1: scancel --signal=TERM 4242, exit 7, scontrol requeue 4242, file status/runs/Marginal runs: $st"
else
  fail "SIGUSR1: exit $rc, file: $st, calls: $(tr '\n' '|' < "$shims/calls.log")"; tail -5 stop1.log
fi
# The requeued job runs the script again.
if SLURM_JOB_ID=4242 EXTRA_ARGS="$stop_args" bash "$src/jobs/diabetes.sbatch" > stop2.log 2>&1; then
  resumed=$(grep -c '^srun .*--resume' "$shims/calls.log")
  plan=$(grep -E '^(TracIn|Marginal):' stop2.log | tr '\n' ' ')
  mpirun -n 2 --oversubscribe "$bin" --dataset diabetes --data "$data/health" --marginal $stop_args -q \
    --out direct_stop.h5 > /dev/null 2>&1 || fail "direct run for the stop case"
  r=$(check_complete "$OUT/diabetes.h5" 0)
  r2=$(same direct_stop.h5 "$OUT/diabetes.h5")
  has_resume=$(pycheck files.value "$OUT/diabetes.h5" "'resumed_at' in f.attrs")
  if [[ $resumed -eq 1 && $plan != *"TracIn: 8 of 8"*"Marginal: 8 run"* && $has_resume == True ]] &&
     check_complete "$OUT/diabetes.h5" 0 > /dev/null && same direct_stop.h5 "$OUT/diabetes.h5" > /dev/null; then
    ok "rerun after the stop resumed ($plan); $r; equal to a direct run: $r2"
  else
    fail "rerun after the stop: --resume calls $resumed, plan: $plan, resumed_at: $has_resume, $r, $r2"
  fi
else
  fail "rerun after the stop exited $?"; tail -5 stop2.log
fi

# --- SIGTERM to the batch shell (scancel: the job is ending): stop, no requeue ---
export OUT=$work/cancel
: > "$shims/calls.log"
signal_sbatch 4343 cancel.log TERM
st=$(pycheck files.attr "$OUT/diabetes.h5" status 2>&1)
if [[ $rc -eq 7 && $st == stopped ]] && ! grep -q '^scontrol requeue' "$shims/calls.log" && [[ ! -e $OUT/diabetes.h5.lock ]]; then
  ok "SIGTERM (a cancel): exit 7, file $st, no scontrol requeue, no lock"
else
  fail "SIGTERM: exit $rc, file: $st, calls: $(tr '\n' '|' < "$shims/calls.log")"; tail -5 cancel.log
fi

# --- Without Slurm, Ctrl-C (SIGINT to the script's process group, as a terminal sends it): it
# does not reach mpirun (a session of its own), which would kill the ranks; the script sends
# mpirun SIGUSR1, forwarded to the ranks: stopped, exit 7 ---
export OUT=$work/ctrlc
set -m  # as a terminal starts it: a process group of its own, SIGINT not ignored
EXTRA_ARGS="$stop_args" bash "$src/jobs/diabetes.sbatch" > ctrlc.log 2>&1 &
bg=$!
set +m
for _ in $(seq 300); do grep -qs '^run split' ctrlc.log && break; sleep 0.1; done
kill -INT -- "-$bg"
for _ in $(seq 600); do kill -0 "$bg" 2> /dev/null || break; sleep 0.1; done
wait "$bg"
rc=$?
bg=
st=$(/usr/bin/python3 -c "import h5py,sys; f=h5py.File(sys.argv[1],'r'); print(f.attrs['status'])" "$OUT/diabetes.h5" 2>&1)
if [[ $rc -eq 7 && $st == stopped ]] && [[ ! -e $OUT/diabetes.h5.lock ]] && grep -q 'run this script again' ctrlc.log; then
  ok "Ctrl-C without Slurm: exit 7, file $st, no lock"
else
  fail "Ctrl-C without Slurm: exit $rc, file: $st"; tail -5 ctrlc.log
fi

finish
