#!/bin/bash
# Checks a job script's inputs (its preflight: the program, the data path, the site hook, srun's
# MPI plugin) and that the tasks it asks for fit in the partition (jobs/fits.sh), then submits
# it; nothing is queued when a check fails (exit 2).
#
#   jobs/submit.sh movielens.sbatch [sbatch options...]
#   DATA=/scratch/me/data jobs/submit.sh diabetes.sbatch --partition=short
#   jobs/submit.sh breast_cancer.sbatch --ntasks=2      # a cluster smaller than the header's 8
set -euo pipefail
jobs_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
script=${1:?usage: jobs/submit.sh <script.sbatch> [sbatch options...]}
shift
[[ -f $jobs_dir/$script ]] || { echo "submit: no script jobs/$script" >&2; exit 2; }
cd "$jobs_dir/.."
CHECK_ONLY=1 bash "$jobs_dir/$script"
# shellcheck source=fits.sh
source "$jobs_dir/fits.sh"
fits "$jobs_dir/$script" "$@" || exit 2
sbatch "$@" "$jobs_dir/$script"
