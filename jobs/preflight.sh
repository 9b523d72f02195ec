# Sourced by every script of jobs/ after its paths are set: the site hook, then the checks that
# must pass before a job is worth queueing. jobs/submit.sh and jobs/submit_sweep.sh run a script
# with CHECK_ONLY=1 before sbatch, so a wrong path is reported at once, not after the wait in
# the queue; under sbatch the same checks run first thing in the job.
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

# preflight <path>...: the program and every input path must exist; with CHECK_ONLY=1, stop
# after the checks (status 0) without running anything.
preflight() {
  local bad=0 p
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
  ((bad)) && exit 2
  if [[ ${CHECK_ONLY:-0} == 1 ]]; then
    echo "preflight: ok ($RECIPROCITY${*:+, }$*)"
    exit 0
  fi
  return 0
}
