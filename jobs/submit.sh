#!/bin/bash
# Checks a job script's inputs (its preflight: the program, the data path, the site hook), then
# submits it; nothing is queued when a check fails.
#
#   jobs/submit.sh movielens.sbatch [sbatch options...]
#   DATA=/scratch/me/data jobs/submit.sh diabetes.sbatch --partition=short
set -euo pipefail
jobs_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
script=${1:?usage: jobs/submit.sh <script.sbatch> [sbatch options...]}
shift
[[ -f $jobs_dir/$script ]] || { echo "submit: no script jobs/$script" >&2; exit 2; }
cd "$jobs_dir/.."
CHECK_ONLY=1 bash "$jobs_dir/$script"
sbatch "$@" "$jobs_dir/$script"
