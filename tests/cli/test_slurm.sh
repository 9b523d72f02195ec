#!/usr/bin/env bash
# The jobs/ scripts on a real single-node Slurm (tools/slurm-local: Debian's slurm-wlm and munge,
# daemons run as root, stopped by pid at the end), submitted as an ordinary user
# ($SLURM_TEST_USER, default rtest, created when missing) from a copy of the repository's jobs/
# with the program and the breast-cancer data:
# 1. a breast-cancer job whose time limit (1 min, Slurm's least) with its warning 55 s before it
#    (--signal=B:USR1@55: the step gets at most about 35 s per start, the run needs about 60 s,
#    its splits sized from a 4-split run) ends COMPLETED after one or more requeues, its file
#    equal run by run to a direct mpirun run, no lock left;
# 2. `scancel` of a running job (4 splits) leaves it CANCELLED and not requeued (still so after the
#    requeue delay), the file `stopped` with its completed runs, no lock left; `scontrol
#    requeue` of it then resumes it (only the runs not done) to the end, equal to a direct run;
# 3. SLURM_MPI_TYPE=none and pmi2 (which Open MPI 4 cannot use): the job exits 2 with the
#    README's message, before anything is written (not even $OUT); jobs/submit.sh refuses
#    them before queueing, and a request for more tasks than the partition has;
# Skipped (77) where Slurm cannot start (not root, packages missing, daemons failing).
# Time: about 4 min, on an idle or a busy machine alike (the direct run ~60 s; the time-limited
# job 2 to 6 starts, 30 s apart; the rest ~60 s); 411 s measured on a heavily loaded machine.
# Usage: test_slurm.sh <reciprocity binary> <shared data dir> <source dir>
source "$(dirname "$0")/lib.sh" "$@"
data=$(realpath -m "$data")
src=$(realpath "$src")
t_start=$(date +%s)
[[ -f $data/health/breast_cancer.csv ]] || { echo "SKIP: no $data/health/breast_cancer.csv"; exit 77; }
((EUID == 0)) || { echo "SKIP: a test Slurm needs root (this is uid $EUID)"; exit 77; }

# --- an ordinary user, and a repository copy it can read and write ---
user=${SLURM_TEST_USER:-rtest}
if ! id "$user" > /dev/null 2>&1; then
  useradd -m -s /bin/bash "$user" 2> /dev/null || { echo "SKIP: cannot create the user $user"; exit 77; }
fi
chmod 755 "$work"
repo=$work/repo
mkdir -p "$repo/build" "$repo/data/health"
cp -r "$src/jobs" "$repo/"
cp "$bin" "$repo/build/reciprocity"
cp "$data/health/breast_cancer.csv" "$repo/data/health/"
chown -R "$user" "$repo"

# --- Slurm (short requeue delay and scheduler interval: test settings) ---
slurm=$work/slurm
cleanup() { "$src/tools/slurm-local" stop "$slurm"; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 1' TERM INT  # (ctest's timeout): through the EXIT trap, which stops the daemons
SLURM_LOCAL_CRED_EXPIRE=10 SLURM_LOCAL_SCHED_INTERVAL=2 "$src/tools/slurm-local" start "$slurm" > slurm-start.log 2>&1
rc=$?
if ((rc != 0)); then
  cat slurm-start.log
  ((rc == 77)) && { echo "SKIP: Slurm cannot start here"; exit 77; }
  fail "tools/slurm-local start exited $rc"; finish
fi
export SLURM_CONF=$slurm/slurm.conf
echo "ok   Slurm up ($(sinfo -h -N -o '%N %c CPUs %m MB') ) in $(($(date +%s) - t_start)) s"
# as_user <command...>: in $repo as $user, with a plain environment (sbatch passes it on).
as_user() {
  (cd "$repo" && runuser -u "$user" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$(getent passwd "$user" | cut -d: -f6)" \
    SLURM_CONF="$SLURM_CONF" LANG=C.UTF-8 "$@")
}
field() { scontrol show job -o "$1" 2> /dev/null | grep -o "\b$2=[^ ]*" | head -1 | cut -d= -f2; }
# wait_end <job> <seconds>: until the job is in a final state; prints it.
wait_end() {
  local s
  for _ in $(seq "$2"); do
    s=$(field "$1" JobState)
    [[ $s =~ ^(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE)$ ]] && break
    sleep 1
  done
  echo "$s"
}
status_of() {
  pycheck files.value "$1" "f.attrs['status'], int(f['runs/complete'][...].sum()), int(f['runs/marginal_complete'][...].sum())" 2>&1
}
# The job: breast cancer (TracIn and Marginal) on 2 ranks at 300 steps, with as many splits as
# take about 60 s here (2 s a split on 2 idle cores; more when other tests share the cores,
# as ctest -j2 does): more than the at most ~35 s a start gets before its warning (--time=1,
# @55: Slurm checks time limits every 30 s), so it needs one requeue or more, and as long on a
# busy machine as on an idle one. Measured with a 4-split run first (which is also the
# reference of the cancelled job, test 2).
ms() { echo $(($(date +%s%N) / 1000000)); }
small="--splits 4 --steps 300"
t=$(ms)
mpirun -n 2 --oversubscribe "$bin" --dataset breast-cancer --data "$data/health" --marginal $small -q \
  --out small.h5 > small.log 2>&1 || { fail "a 4-split direct run"; tail -3 small.log; }
t4=$(($(ms) - t))
splits=$((60000 * 4 / (t4 > 1 ? t4 : 1) + 1))
((splits < 8)) && splits=8
((splits > 60)) && splits=60
args="--splits $splits --steps 300"
echo "ok   a 4-split run took $t4 ms: the time-limited job runs $args"

# --- 1. the time limit: stop, requeue, resume, complete, equal to a direct run ---
t=$(date +%s)
mpirun -n 2 --oversubscribe "$bin" --dataset breast-cancer --data "$data/health" --marginal $args -q \
  --out direct.h5 > direct.log 2>&1 || { fail "direct run"; tail -3 direct.log; }
direct_s=$(($(date +%s) - t))
echo "ok   direct mpirun -n 2 run: $direct_s s"
t=$(date +%s)
id=$(as_user OUT="$repo/tl" EXTRA_ARGS="$args" sbatch --parsable --ntasks=2 --time=1 --signal=B:USR1@55 jobs/breast_cancer.sbatch)
# Within ctest's 600 s, leaving time for the rest and the clean-up.
st=$(wait_end "$id" $((500 - ($(date +%s) - t_start))))
tl_s=$(($(date +%s) - t))
log=$repo/reciprocity-breast-cancer-$id.out
restarts=$(field "$id" Restarts) exitcode=$(field "$id" ExitCode)
n_req=$(grep -c "requeueing job $id" "$log" 2> /dev/null)
if [[ $st == COMPLETED && $exitcode == 0:0 && ${restarts:-0} -ge 1 && $n_req -eq $restarts ]] &&
   r=$(compare direct.h5 "$repo/tl/breast_cancer.h5") && [[ ! -e $repo/tl/breast_cancer.h5.lock ]]; then
  echo "ok   time-limited job $id: $st, exit $exitcode, after $restarts requeue(s), $tl_s s; equal to the direct run: $r; no lock left"
else
  fail "time-limited job $id: state $st, exit $exitcode, restarts $restarts, requeue messages $n_req, $tl_s s; ${r:-}; lock: $(ls "$repo/tl/" 2>&1 | tr '\n' ' ')"
  tail -n 30 "$log"
fi
grep -q "forcing job termination\|Killed\|exit code 137" "$log" && fail "time-limited job $id: a step was killed: $(grep -m2 'forcing\|Killed\|137' "$log")"
echo "     sacct -c: $(sacct -c -j "$id" -n -o state,exitcode,elapsed 2>&1 | tr -s ' ' | tr '\n' ';')"

# --- 2. scancel: CANCELLED, not requeued, the file stopped, no lock ---
id=$(as_user OUT="$repo/cancel" EXTRA_ARGS="$small" sbatch --parsable --ntasks=2 jobs/breast_cancer.sbatch)
log=$repo/reciprocity-breast-cancer-$id.out
for _ in $(seq 300); do grep -qs "^marginal split" "$log" && break; sleep 0.5; done
t=$(date +%s)
as_user scancel "$id"
st=$(wait_end "$id" 120)
cancel_s=$(($(date +%s) - t))
sleep 15  # longer than the requeue delay (cred_expire 10 s + a scheduler pass): a requeue would show
st2=$(field "$id" JobState) restarts=$(field "$id" Restarts)
fs=$(status_of "$repo/cancel/breast_cancer.h5")
if [[ $st == CANCELLED && $st2 == CANCELLED && $restarts == 0 && $fs == "stopped "* && $fs != "stopped 0 0" &&
      ! -e $repo/cancel/breast_cancer.h5.lock ]] && ! grep -q "requeueing" "$log"; then
  echo "ok   scancel of running job $id: $st (still $st2 15 s later, restarts $restarts), ended in $cancel_s s; file (status, runs, Marginal runs): $fs; no lock left"
else
  fail "scancel of job $id: $st then $st2, restarts $restarts, file: $fs, lock: $(ls "$repo/cancel/" 2>&1 | tr '\n' ' ')"
  tail -n 15 "$log"
fi
echo "     sacct -c: $(sacct -c -j "$id" -n -o state,exitcode,elapsed 2>&1 | tr -s ' ' | tr '\n' ';')"
# ... and `scontrol requeue` of the cancelled job resumes it to the end, equal to the direct run.
if (($(date +%s) - t_start < 400)); then
  t=$(date +%s)
  as_user scontrol requeue "$id"
  for _ in $(seq 60); do [[ $(field "$id" JobState) != CANCELLED ]] && break; sleep 0.5; done
  st=$(wait_end "$id" $((540 - ($(date +%s) - t_start))))
  restarts=$(field "$id" Restarts)
  if [[ $st == COMPLETED && $restarts == 1 ]] && r=$(compare small.h5 "$repo/cancel/breast_cancer.h5") &&
     grep -q "^Marginal: $((4 - ${fs##* })) run(s) to do" "$log"; then
    echo "ok   scontrol requeue of cancelled job $id: resumed ($(grep -c '^Marginal:' "$log") starts), $st after $(($(date +%s) - t)) s; equal to a direct 4-split run: $r"
  else
    fail "scontrol requeue of job $id: $st, restarts $restarts, ${r:-}"; grep '^Marginal:\|^TracIn:' "$log"
  fi
else
  echo "skip scontrol requeue of the cancelled job: $(($(date +%s) - t_start)) s used of the test's budget"
fi

# --- 3. an MPI plugin Open MPI cannot use; a request larger than the partition ---
for mpi in none pmi2; do
  id=$(as_user OUT="$repo/mpi_$mpi" SLURM_MPI_TYPE=$mpi EXTRA_ARGS="$args" sbatch --parsable --ntasks=2 jobs/breast_cancer.sbatch)
  st=$(wait_end "$id" 60)
  log=$repo/reciprocity-breast-cancer-$id.out
  exitcode=$(field "$id" ExitCode)
  if [[ $st == FAILED && $exitcode == 2:0 && ! -e $repo/mpi_$mpi ]] &&
     grep -q "preflight: srun --mpi=$mpi cannot start Open MPI .* SLURM_MPI_TYPE=pmix" "$log"; then
    echo "ok   SLURM_MPI_TYPE=$mpi: job $id $st, exit $exitcode, nothing written: $(grep -o 'srun --mpi=[^:]*: [^;]*' "$log" | head -1)"
  else
    fail "SLURM_MPI_TYPE=$mpi: job $id $st, exit $exitcode, out: $(ls -d "$repo/mpi_$mpi" 2>&1)"; cat "$log"
  fi
done
before=$(squeue -h | wc -l)
as_user SLURM_MPI_TYPE=none jobs/submit.sh breast_cancer.sbatch --ntasks=2 > submit_none.log 2>&1
rc=$?
[[ $rc -eq 2 && $(squeue -h | wc -l) -eq $before && ! -e $repo/results ]] && grep -q "srun --mpi=none cannot start" submit_none.log &&
  echo "ok   jobs/submit.sh with SLURM_MPI_TYPE=none: exit 2 at submission, nothing queued or written" ||
  { fail "submit.sh with SLURM_MPI_TYPE=none: exit $rc"; cat submit_none.log; }
cpus=$(sinfo -h -o '%C' | cut -d/ -f4)
if ((cpus < 8)); then
  as_user jobs/submit.sh breast_cancer.sbatch > submit_big.log 2>&1  # the header's 8 tasks
  rc=$?
  [[ $rc -eq 2 && $(squeue -h | wc -l) -eq $before ]] && grep -q "asks for 8 tasks, but partition .* has $cpus CPUs" submit_big.log &&
    echo "ok   jobs/submit.sh, 8 tasks on $cpus CPUs: exit 2 at submission: $(grep -o 'asks for.*CPUs' submit_big.log)" ||
    { fail "submit.sh, 8 tasks on $cpus CPUs: exit $rc"; cat submit_big.log; }
else
  echo "skip the oversized request: this node has $cpus CPUs"
fi

echo "     (test time $(($(date +%s) - t_start)) s)"
finish
