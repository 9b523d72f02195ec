#!/usr/bin/env bash
# Slurm reality: the jobs/ scripts check the program and their data path before anything is
# queued (CHECK_ONLY=1; jobs/submit.sh and jobs/submit_sweep.sh call sbatch only when the checks
# pass), source a site hook (SITE_HOOK, for `module load`), and the program refuses to run as
# N single-rank copies started by srun without its MPI plugin.
# Usage: test_preflight.sh <reciprocity binary> <shared data dir> <source dir>
source "$(dirname "$0")/lib.sh" "$@"
[[ -d $data/health ]] || { echo "skip: no health data in $data"; exit 77; }
export RECIPROCITY=$bin OUT=$work/out

# A fake sbatch that only logs that it was called.
mkdir -p fakebin
printf '#!/bin/bash\necho "sbatch $*" >> %s/sbatch.log\necho 12345\n' "$work" > fakebin/sbatch
chmod +x fakebin/sbatch
export PATH=$work/fakebin:$PATH

out=$(CHECK_ONLY=1 DATA=$work/nowhere bash "$src/jobs/diabetes.sbatch" 2>&1); rc=$?
[[ $rc -eq 2 ]] && grep -q "preflight: input $work/nowhere/health does not exist" <<<"$out" &&
  echo "ok   a missing data path: exit 2 naming it" || { fail "missing data path: exit $rc"; echo "$out"; }
out=$(CHECK_ONLY=1 DATA=$data bash "$src/jobs/diabetes.sbatch" 2>&1); rc=$?
[[ $rc -eq 0 ]] && grep -q "preflight: ok" <<<"$out" && [[ ! -e $OUT ]] &&
  echo "ok   CHECK_ONLY=1 with good paths: exit 0, nothing run" || { fail "CHECK_ONLY good paths: exit $rc"; echo "$out"; }
out=$(CHECK_ONLY=1 DATA=$data RECIPROCITY=$work/none bash "$src/jobs/merge.sbatch" 2>&1); rc=$?
[[ $rc -eq 2 ]] && grep -q "the program $work/none is missing" <<<"$out" &&
  echo "ok   a missing program: exit 2 naming it" || { fail "missing program: exit $rc"; echo "$out"; }

rm -f sbatch.log
out=$(DATA=$work/nowhere "$src/jobs/submit.sh" diabetes.sbatch 2>&1); rc=$?
[[ $rc -ne 0 && ! -e sbatch.log ]] && echo "ok   jobs/submit.sh: a bad path queues nothing" || { fail "submit.sh with a bad path: exit $rc, $(cat sbatch.log 2>/dev/null)"; }
out=$(DATA=$data "$src/jobs/submit.sh" diabetes.sbatch --partition=short 2>&1); rc=$?
[[ $rc -eq 0 ]] && grep -q "sbatch --partition=short .*jobs/diabetes.sbatch" sbatch.log &&
  echo "ok   jobs/submit.sh: good paths are submitted" || { fail "submit.sh good paths: exit $rc"; echo "$out"; }
rm -f sbatch.log
out=$(SWEEP="--dataset diabetes --data $work/nowhere" SPLITS=4 CHUNK=2 "$src/jobs/submit_sweep.sh" 2>&1); rc=$?
[[ $rc -ne 0 && ! -e sbatch.log ]] && grep -q "$work/nowhere does not exist" <<<"$out" &&
  echo "ok   jobs/submit_sweep.sh: a bad --data in SWEEP queues nothing" || { fail "submit_sweep.sh bad data: exit $rc"; echo "$out"; }

# The site hook runs first; a SITE_HOOK that does not exist is an error.
echo 'echo "site hook ran: module load openmpi"' > hook.sh
out=$(SITE_HOOK=$work/hook.sh CHECK_ONLY=1 DATA=$data bash "$src/jobs/diabetes.sbatch" 2>&1); rc=$?
[[ $rc -eq 0 ]] && grep -q "site hook ran" <<<"$out" && echo "ok   SITE_HOOK is sourced" || { fail "SITE_HOOK: exit $rc"; echo "$out"; }
out=$(SITE_HOOK=$work/missing.sh CHECK_ONLY=1 DATA=$data bash "$src/jobs/diabetes.sbatch" 2>&1); rc=$?
[[ $rc -eq 2 ]] && grep -q "SITE_HOOK=$work/missing.sh does not exist" <<<"$out" && echo "ok   a missing SITE_HOOK: exit 2" || { fail "missing SITE_HOOK: exit $rc"; echo "$out"; }

# srun without its MPI plugin starts N single-rank copies: each refuses (exit 2).
out=$(SLURM_STEP_NUM_TASKS=4 SLURM_PROCID=1 timeout 30 "$bin" --out copies.h5 2>&1); rc=$?
[[ $rc -eq 2 ]] && grep -q "one of 4 separate single-rank copies" <<<"$out" && [[ ! -e copies.h5 ]] &&
  echo "ok   srun without MPI plugin: each copy refuses, nothing written" || { fail "srun copies: exit $rc"; echo "$out"; }
out=$(SLURM_STEP_NUM_TASKS=1 timeout 60 "$bin" --out one.h5 --quiet --splits 1 --seeds 1 --steps 5 2>&1); rc=$?
[[ $rc -eq 0 ]] && echo "ok   a one-task step runs" || { fail "one-task step: exit $rc"; echo "$out"; }
finish
