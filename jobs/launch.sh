# Sourced by every script of jobs/ after its paths are set ($RANKS): how a job step is launched
# (srun inside a Slurm job, else mpirun), how a SIGTERM is passed on so that reciprocity stops
# cleanly after the runs in flight, and how a stopped step requeues the job (or tells the user).
# The scripts call run_step, after_step and resume_if_exists (see each below).
# launch <command...>: the job step in the background (srun inside a Slurm job, else mpirun);
# its pid in $step.
launch() {
  if command -v srun > /dev/null && [[ -n ${SLURM_JOB_ID:-} ]]; then
    launcher=srun
    srun "$@" &
  else
    launcher=mpirun
    mpirun -n "$RANKS" --oversubscribe "$@" &
  fi
  step=$!
}
# SIGTERM (Slurm's warning, from each script's #SBATCH --signal=B:TERM@...; scancel
# --signal=TERM --batch; or a kill) reaches this shell only. Pass it on: srun forwards it to
# every task; Open MPI's mpirun does not forward SIGTERM, so signal its ranks (its children)
# directly. reciprocity then finishes the runs in flight,
# closes the file with status "stopped" and exits with status 7.
stopping=0 interrupted=0 step=
on_term() {
  stopping=1 interrupted=1
  echo "$(date '+%F %T') signal received: asking reciprocity to stop after the runs in flight" >&2
  [[ -n $step ]] || return 0
  if [[ $launcher == srun ]]; then kill -TERM "$step" 2> /dev/null; else pkill -TERM -P "$step" 2> /dev/null; fi
}
trap on_term TERM INT
# run_step <command...>: launch, wait (again after the trap interrupted the wait), status.
run_step() {
  launch "$@"
  local rc
  while :; do
    wait "$step"
    rc=$?
    if ((rc > 128 && interrupted)); then interrupted=0; continue; fi
    step=
    return $rc
  done
}
# after_step <status> <file>: status 7 (stopped; mpirun may report another non-zero status,
# so the file's own status attribute counts too) means: requeue under Slurm, else tell the user.
after_step() {
  local rc=$1 file=$2
  ((rc == 0)) && return 0
  if ((rc == 7)) || { command -v h5dump > /dev/null && h5dump -a /status "$file" 2> /dev/null | grep -q '"stopped"'; }; then
    if [[ -n ${SLURM_JOB_ID:-} ]] && command -v scontrol > /dev/null; then
      echo "stopped before the time limit: requeueing job $SLURM_JOB_ID; it resumes $file" >&2
      scontrol requeue "$SLURM_JOB_ID"
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
