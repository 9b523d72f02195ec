#!/usr/bin/env bash
# A full disk on a file system that cannot reserve space (Lustre, NFS and others without
# fallocate's keep-size mode; a small ext2 loop mount behaves the same: skipped where mounting
# one is not allowed). The disk fills after the runs, at the first write of the summary (the
# sweep is stopped there with RECIPROCITY_FAULT=h5-pause, the disk filled, the sweep continued),
# so HDF5 fails a metadata write. On 1 and 2 ranks:
# - every rank exits 4 within 30 s, with one message naming the file and the phase, no crash;
# - every run is in the journal <out>.journal (one file per run);
# - --resume, once space is freed, gives a file equal, run by run, to an uninterrupted sweep
#   (rebuilt from the journal when HDF5 can no longer open the damaged file).
# Usage: test_cluster_fs.sh <reciprocity binary> <shared data dir> <source dir>
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh" "$@"
source "$here/faults_lib.sh"
/usr/bin/python3 -c 'import h5py' 2> /dev/null || { echo "h5py missing: skipped"; exit 77; }
command -v mkfs.ext2 > /dev/null || { echo "mkfs.ext2 missing (e2fsprogs): skipped"; exit 77; }
use_mount_point
# mount_ext2: a fresh 8 MiB ext2 file system (1 KiB blocks) at $mnt.
mount_ext2() {
  unmount
  rm -f "$work/e.img"
  truncate -s 8M "$work/e.img" && mkfs.ext2 -q -F -b 1024 "$work/e.img" > mkfs.log 2>&1 &&
    mount -o loop "$work/e.img" "$mnt" 2> mount.err
}
mount_ext2 || { echo "cannot mount an ext2 loop file system ($(cat mount.err 2>/dev/null)): skipped"; exit 77; }
# The premise: this file system cannot reserve space the way the program does elsewhere.
if fallocate -n -l 64k "$mnt/probe" 2> /dev/null; then
  echo "note: this ext2 mount supports fallocate's keep-size mode; the test still fills it after the runs"
fi
rm -f "$mnt/probe"

make_reference
runs=$(( $(printf '%s\n' "${sweep[@]}" | grep -A1 -- --splits | tail -1) * $(printf '%s\n' "${sweep[@]}" | grep -A1 -- --seeds | tail -1) ))

for np in 1 2; do
  name="np $np, ext2 filled at the summary"
  # The write call of rank 0 that first touches /summary (the same sequence on every rank).
  run_job "$np" 120 trace.log --out trace$np.h5 --force
  RECIPROCITY_FAULT=h5-write:trace run_job "$np" 120 trace.log --out trace$np.h5 --force
  nth=$(grep -E '^h5-write [0-9]+ rank 0: .*/summary' trace.log | head -1 | awk '{print $2}')
  [[ -n $nth ]] || { fail "$name: no summary write in the trace"; continue; }

  mount_ext2 || { fail "$name: remounting"; continue; }
  RECIPROCITY_FAULT=h5-pause:$nth:0 launch "$np" full.log --out "$mnt/r.h5"
  for _ in $(seq 600); do grep -q 'h5-pause: rank 0' full.log && break; sleep 0.1; done
  pid=$(grep -o 'h5-pause: rank 0 (pid [0-9]*' full.log | grep -o '[0-9]*$')
  [[ -n $pid ]] || { fail "$name: the sweep never reached its summary"; cat full.log; await 5; continue; }
  dd if=/dev/zero of="$mnt/filler" bs=1k status=none 2> /dev/null
  free=$(df -k --output=avail "$mnt" | tail -1 | tr -d ' ')
  kill -CONT "$pid"
  t0=$(date +%s%3N)
  await 30  # the agreement's own timeout is 20 s
  if [[ $rc -eq 124 ]]; then fail "$name: still running 30 s after the disk filled (hang)"; continue; fi
  how="every rank exit 4"
  if grep -q 'did not reach the agreement on this error' full.log; then
    # HDF5 left the other rank inside one of its own collective calls: the failing rank ends
    # the job after the agreement's timeout (MPI_Abort with the error's status).
    how="ended by the failing rank after the agreement timeout (MPI_Abort 4)"
    grep -Eq 'Segmentation|core dumped|Signal:|internal error|terminate called' full.log && fail "$name: crash"
    # Open MPI's own report of the abort (its wording and line breaks vary with the load).
    grep -q 'errorcode 4' full.log || grep -q 'exit code: *4' full.log ||
      { fail "$name: not aborted with status 4"; grep -iE -A3 'abort|exit' full.log | head -8; }
  else
    no_crash full.log || fail "$name: crash: $(grep -E 'Segmentation|core|Signal:|MPI_ABORT' full.log | head -1)"
    ranks_exit full.log "$np" 4 || fail "$name: not every rank exited 4"
  fi
  grep -q "reciprocity: error: writing results file \"$mnt/r.h5\" (.*)" full.log ||
    { fail "$name: no message naming the file and the phase:"; grep -E 'error' full.log | head -3; }
  kept=$(ls "$mnt/r.h5.journal" 2>/dev/null | grep -c '^run-')
  [[ $kept -eq $runs ]] || fail "$name: $kept of $runs runs in the journal"
  phase=$(grep -o 'writing results file "[^"]*" ([^)]*)' full.log | head -1)
  echo "ok   $name ($free KiB free): $how, $ms ms after the fill: $phase; $kept runs in the journal"

  rm -f "$mnt/filler"
  run_job "$np" 120 resume.log --out "$mnt/r.h5" --resume
  if [[ $rc -eq 0 ]] && compare ref.h5 "$mnt/r.h5" > cmp.log; then
    how=$(grep -q 'rebuilding' resume.log && echo "rebuilt from the journal" || echo "the file was still readable")
    echo "ok   $name: --resume on free space ($how): $(cat cmp.log)"
  else
    fail "$name: --resume on free space: exit $rc"; grep -E 'error|rebuild' resume.log | head -3; cat cmp.log 2>/dev/null
  fi
done

# A journal of another configuration is never replayed: the damaged file is refused, naming it.
mount_ext2
run_job 1 60 a.log --out "$mnt/r.h5"
head -c 2048 /dev/urandom | dd of="$mnt/r.h5" bs=1 seek=0 conv=notrunc status=none
run_job 1 60 other.log --out "$mnt/r.h5" --resume --lambda 0.123
if [[ $rc -eq 4 ]] && grep -q 'is of another configuration or data, so it cannot be rebuilt' other.log; then
  echo "ok   a journal of another configuration is not replayed (exit 4, named)"
else
  fail "journal of another configuration: exit $rc"; grep error other.log | head -2
fi
run_job 1 60 same.log --out "$mnt/r.h5" --resume
if [[ $rc -eq 0 ]] && grep -q 'rebuilding' same.log && compare ref.h5 "$mnt/r.h5" > cmp.log; then
  echo "ok   a file damaged at its start is rebuilt from its journal by --resume: $(cat cmp.log)"
else
  fail "damaged file, same configuration: exit $rc"; grep -E 'error|rebuild' same.log | head -3
fi
finish
