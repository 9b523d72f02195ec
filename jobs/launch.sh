# Sourced by every script of jobs/ after its checks (jobs/preflight.sh): how a job step is
# launched (srun inside a Slurm job, else mpirun), how a stop reaches the ranks (SIGTERM, SIGUSR1) so
# that reciprocity stops cleanly after the runs in flight, and what a stopped step does next
# (requeue the job, end it, or tell the user). The scripts call run_step, after_step and
# resume_if_exists (see each below).
#
# Under Slurm (measured on slurm-wlm 22.05.8 with Open MPI 4.1; see jobs/README.md):
# - SIGUSR1 to this shell: the time-limit warning (#SBATCH --signal=B:USR1@120), or a stop
#   asked by hand (`scancel --batch --signal=USR1 <job>`). Stop and requeue: the shell asks
#   Slurm to send SIGTERM to the job step's tasks (`scancel --signal=TERM <job>`: every step
#   but the batch shell), never to srun itself, which answers a SIGTERM by SIGKILLing the tasks
#   ("forcing job termination"). The ranks exit 7, the script runs `scontrol requeue`.
# - SIGTERM (or SIGINT, SIGHUP) to this shell: the job is being ended by Slurm (scancel, the
#   time limit itself, `scontrol requeue`, preemption). Slurm sends SIGTERM to every process
#   of the job, the tasks included, and SIGKILL KillWait (30 s by default) later, so the ranks
#   stop by themselves; the script waits for the step and does not requeue: a cancelled job
#   stays CANCELLED (Slurm itself requeues after `scontrol requeue` or a preemption).
# - the step exits 7 although this shell got no signal: someone sent SIGTERM to the step
#   (`scancel --signal=TERM <job>`): requeue, as for the time limit.
# Without Slurm (mpirun): SIGTERM, SIGINT, SIGHUP or SIGUSR1 to the script stop the ranks
# (SIGUSR1 to mpirun, which forwards it to every rank; it would answer SIGTERM or SIGINT by
# killing them a second later, so it runs in a session of its own, out of reach of a terminal's
# Ctrl-C, as in tools/mpirun-graceful) and the script exits 7 saying how to continue.

# launch <command...>: the job step in the background (srun --mpi=$SLURM_MPI_TYPE inside a
# Slurm job, else mpirun); its pid in $step.
launch() {
  if command -v srun > /dev/null && [[ -n ${SLURM_JOB_ID:-} ]]; then
    launcher=srun
    srun --mpi="${SLURM_MPI_TYPE:-pmix}" "$@" &
  else
    launcher=mpirun
    setsid mpirun -n "$RANKS" --oversubscribe "$@" &  # no fork: $! is mpirun
  fi
  step=$!
}
# stopping: a stop was asked (the scripts check it between steps); stop_kind: requeue (SIGUSR1,
# the time-limit warning) or end (SIGTERM: cancel, time limit reached, Slurm's own requeue).
stopping=0 interrupted=0 step= launcher= stop_kind=
# signal_step: pass the stop on to the running step's ranks.
signal_step() {
  [[ -n $step ]] || return 0
  if [[ $launcher == srun ]]; then
    # Slurm delivers it to the tasks of every step (not to the batch shell, nor to srun).
    scancel --signal=TERM "$SLURM_JOB_ID" 2> /dev/null
  else
    kill -USR1 "$step" 2> /dev/null
  fi
}
on_usr1() {
  stopping=1 interrupted=1
  [[ -z $stop_kind ]] && stop_kind=requeue
  echo "$(date '+%F %T') SIGUSR1 (time-limit warning): asking reciprocity to stop after the runs in flight; the job will requeue" >&2
  signal_step
}
on_term() {
  stopping=1 interrupted=1
  [[ $stop_kind == requeued ]] && return 0  # our own `scontrol requeue` ending this run
  stop_kind=end
  if [[ -n ${SLURM_JOB_ID:-} ]]; then
    echo "$(date '+%F %T') SIG$1: the job is ending (cancelled, at its time limit, or requeued by Slurm); reciprocity stops after the runs in flight" >&2
  else
    echo "$(date '+%F %T') SIG$1: reciprocity stops after the step in flight" >&2
  fi
  # Under Slurm the ranks got it too, except after `scancel --batch --signal=TERM`: once more
  # does no harm.
  signal_step
}
trap on_usr1 USR1
trap 'on_term TERM' TERM
trap 'on_term INT' INT
trap 'on_term HUP' HUP
# run_step <command...>: launch, wait (again after a trap interrupted the wait), status.
run_step() {
  launch "$@"
  local rc
  while :; do
    wait "$step"
    rc=$?
    if ((rc > 128 && interrupted)) && kill -0 "$step" 2> /dev/null; then interrupted=0; continue; fi
    step=
    return $rc
  done
}
# after_step <status> <file>: status 7 (stopped; mpirun may report another non-zero status,
# so the file's own status attribute counts too) means: under Slurm, requeue unless the job is
# ending (SIGTERM to this shell), else tell the user how to continue.
after_step() {
  local rc=$1 file=$2
  if ((rc == 0)); then
    [[ -e $file ]] && return 0
    # srun exits 0 also when the step could not be launched ("task 0 launch failed").
    echo "the step ended with status 0 but $file does not exist: it did not run (see the messages above)" >&2
    exit 1
  fi
  if ((rc == 7)) || { command -v h5dump > /dev/null && h5dump -a /status "$file" 2> /dev/null | grep -q '"stopped"'; }; then
    if [[ -n ${SLURM_JOB_ID:-} ]] && command -v scontrol > /dev/null; then
      if [[ $stop_kind == end ]]; then
        echo "stopped: job $SLURM_JOB_ID ends here (not requeued by this script); $file is 'stopped': \`scontrol requeue $SLURM_JOB_ID\` or the same sbatch resumes it" >&2
      else
        echo "stopped before the time limit: requeueing job $SLURM_JOB_ID (restart ${SLURM_RESTART_COUNT:-0}); it resumes $file" >&2
        stop_kind=requeued
        scontrol requeue "$SLURM_JOB_ID"
      fi
    else
      echo "stopped: run this script again to resume $file" >&2
    fi
    exit 7
  fi
  echo "reciprocity failed with status $rc (see the messages above)" >&2
  exit "$rc"
}
# resume_if_exists <file>: --resume when a previous (stopped or requeued) job left the file.
resume_if_exists() { [[ -e $1 ]] && echo --resume; }
