#!/bin/bash
# Submits a sweep as a Slurm array (jobs/array_sweep.sbatch, one task per CHUNK splits) and
# the merge of its parts (jobs/merge.sbatch), which starts only once every array task has
# succeeded (--dependency=afterok:<array job id>). Prints both job ids.
#
#   SPLITS=100 CHUNK=10 jobs/submit_sweep.sh
#   SWEEP="--dataset diabetes --data $PWD/data/health" SPLITS=1000 CHUNK=50 NAME=diabetes_1000 jobs/submit_sweep.sh
#
# Variables: SPLITS (default 100), CHUNK (default 10), NAME (default sweep), SWEEP, EXTRA_ARGS,
# RECIPROCITY, DATA, OUT (see jobs/README.md). They reach the jobs through sbatch's default
# --export=ALL. Extra arguments are passed to both sbatch calls (e.g. --partition=short).
set -euo pipefail
jobs_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

export SPLITS=${SPLITS:-100} CHUNK=${CHUNK:-10} NAME=${NAME:-sweep}
# The jobs find the repository from the directory they are submitted from.
cd "$jobs_dir/.."
tasks=$(((SPLITS + CHUNK - 1) / CHUNK))
# The inputs are checked before anything is queued (jobs/preflight.sh).
CHECK_ONLY=1 SLURM_ARRAY_TASK_ID=0 bash "$jobs_dir/array_sweep.sbatch"
# ... and that each task's ranks fit in the partition (jobs/fits.sh).
# shellcheck source=fits.sh
source "$jobs_dir/fits.sh"
fits "$jobs_dir/array_sweep.sbatch" "$@" || exit 2

# --parsable prints "<job id>" or "<job id>;<cluster>".
array_id=$(sbatch --parsable --array="0-$((tasks - 1))" "$@" "$jobs_dir/array_sweep.sbatch")
array_id=${array_id%%;*}
merge_id=$(sbatch --parsable --dependency="afterok:$array_id" "$@" "$jobs_dir/merge.sbatch")
merge_id=${merge_id%%;*}

echo "array job $array_id: $tasks task(s) of $CHUNK split(s), $SPLITS in all -> ${OUT:-results}/${NAME}_part<i>.h5"
echo "merge job $merge_id: after every task of $array_id succeeded -> ${OUT:-results}/$NAME.h5"
