# Sourced by every script of jobs/ after its paths are set: the site hook, then the checks that
# must pass before a job is worth queueing. jobs/submit.sh and jobs/submit_sweep.sh run a script
# with CHECK_ONLY=1 before sbatch, so a wrong path is reported at once, not after the wait in
# the queue; under sbatch the same checks run first thing in the job, before anything is written
# (not even $OUT is created before they pass).
#
# Site hook: SITE_HOOK (default jobs/site.sh, if it exists) is sourced first, for what a
# cluster needs before the program runs (`module load openmpi hdf5`, a conda environment, ...).

site_hook=${SITE_HOOK:-$repo/jobs/site.sh}
if [[ -n ${SITE_HOOK:-} && ! -f $SITE_HOOK ]]; then
  echo "preflight: SITE_HOOK=$SITE_HOOK does not exist" >&2
  exit 2
fi
# shellcheck disable=SC1090
[[ -f $site_hook ]] && source "$site_hook"

# The MPI plugin srun starts the ranks with (jobs/launch.sh: srun --mpi=$SLURM_MPI_TYPE).
# SLURM_MPI_TYPE is Slurm's own variable for srun's --mpi; the scripts pass it explicitly, so
# the cluster's MpiDefault does not matter. Open MPI 4 (Debian 12) needs pmix.
SLURM_MPI_TYPE=${SLURM_MPI_TYPE:-pmix}

# mpi_plugin_problem: prints why srun --mpi=$SLURM_MPI_TYPE cannot start this MPI's
# ranks, or nothing. Checks srun's list of plugins and, for Open MPI (ompi_info, as set up by
# the site hook), the PMI interfaces it was built with: pmix* needs its pmix components (Open
# MPI 5 has only PMIx), pmi2 its s2 component; with none (or pmi2 without s2) Open MPI aborts
# in MPI_Init, status 1, before the program could say anything. srun's list needs the
# cluster's configuration: where it cannot be read (no Slurm here) nothing is checked.
mpi_plugin_problem() {
  local list comps version ok=1
  list=$(srun --mpi=list 2> /dev/null) || return 0
  list=$(sed -n 's/^[[:space:]]\+\([a-z0-9_]\+\)$/\1/p; s/.*versions available: *//p' <<< "$list" | tr ', ' '\n\n' | grep . | sort -u | tr '\n' ' ')
  if ! grep -qw -- "$SLURM_MPI_TYPE" <<< "$list"; then
    echo "srun has no MPI plugin '$SLURM_MPI_TYPE' (srun --mpi=list: ${list% })"
    return 0
  fi
  command -v ompi_info > /dev/null || return 0
  version=$(ompi_info --parsable 2> /dev/null | sed -n 's/^ompi:version:full://p')
  comps=$(ompi_info --parsable 2> /dev/null | sed -n 's/^mca:pmix:\([^:]*\):version:.*/\1/p' | sort -u | tr '\n' ' ')
  case $SLURM_MPI_TYPE in
    pmix*) [[ ${version%%.*} -ge 5 || $comps == *pmix* || $comps =~ ext[0-9]x ]] || ok=0 ;;
    pmi2) [[ $comps == *s2* ]] || ok=0 ;;
    *) ok=0 ;;
  esac
  ((ok)) && return 0
  local supported=
  [[ ${version%%.*} -ge 5 || $comps == *pmix* || $comps =~ ext[0-9]x ]] && supported+="pmix "
  [[ $comps == *s2* ]] && supported+="pmi2 "
  supported=${supported% }
  echo "srun --mpi=$SLURM_MPI_TYPE cannot start Open MPI ${version:-?}'s ranks (it takes: ${supported:-no srun plugin}): its tasks would abort in MPI_Init (status 1) or run as separate single-rank copies; submit with SLURM_MPI_TYPE=${supported%% *} (srun --mpi=list: ${list% })"
}

# preflight <path>...: the program and every input path must exist, and srun's MPI plugin must
# suit the program's MPI (under Slurm, or at submission: CHECK_ONLY=1); with CHECK_ONLY=1, stop
# after the checks (status 0) without running anything.
preflight() {
  local bad=0 p problem
  if [[ ! -x $RECIPROCITY ]]; then
    echo "preflight: the program $RECIPROCITY is missing or not executable (build it with tools/build, or set RECIPROCITY)" >&2
    bad=1
  fi
  for p in "$@"; do
    if [[ ! -e $p ]]; then
      echo "preflight: input $p does not exist (set DATA, now $DATA; see jobs/README.md)" >&2
      bad=1
    fi
  done
  if [[ -n ${SLURM_JOB_ID:-} || ${CHECK_ONLY:-0} == 1 ]] && command -v srun > /dev/null; then
    problem=$(mpi_plugin_problem)
    if [[ -n $problem ]]; then
      echo "preflight: $problem" >&2
      bad=1
    fi
  fi
  ((bad)) && exit 2
  if [[ ${CHECK_ONLY:-0} == 1 ]]; then
    echo "preflight: ok ($RECIPROCITY${*:+, }$*${SLURM_JOB_ID:+, srun --mpi=$SLURM_MPI_TYPE})"
    exit 0
  fi
  return 0
}
