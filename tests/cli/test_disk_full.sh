#!/usr/bin/env bash
# A real full disk (a small tmpfs; skipped where mounting one is not allowed):
# - a file system too small for the results file: every rank (1 and 2 ranks) exits 4 within
#   30 s naming the file and "No space left on device", no crash, nothing left behind; then
#   --resume on free space completes it equal to an uninterrupted 1-rank sweep;
# - a disk that fills up while a sweep runs (another file takes all the free space once the
#   results file is created): the sweep completes, equal to the uninterrupted sweep, since the
#   space it grows to (runs, summary, final flush) was reserved at its creation; the
#   reservation is given back at the end;
# - --resume of a partial file on a full disk: exit 4 naming the file, the file byte for byte
#   unchanged; once space is freed, --resume completes it equal to the uninterrupted sweep.
# Usage: test_disk_full.sh <reciprocity binary> <shared data dir> <source dir>
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh" "$@"
source "$here/faults_lib.sh"
/usr/bin/python3 -c 'import h5py' 2> /dev/null || { echo "h5py missing"; exit 77; }
use_mount_point
# mount_tmpfs <size>: a fresh tmpfs of <size> at $mnt.
mount_tmpfs() {
  unmount
  mount -t tmpfs -o "size=$1" tmpfs "$mnt" 2> mount.err
}
mount_tmpfs 128k || { echo "cannot mount a tmpfs ($(cat mount.err)): skipped"; exit 77; }

make_reference

# fill_disk [leave KiB]: another file takes all the free space of $mnt but <leave> KiB.
fill_disk() {
  dd if=/dev/zero of="$mnt/filler" bs=4k status=none 2>/dev/null
  [[ ${1:-0} -gt 0 ]] && truncate -s "-$1K" "$mnt/filler"
  return 0
}
free_kib() { df -k --output=avail "$mnt" | tail -1 | tr -d ' '; }

# --- a file system too small for the file ---
for np in 1 2; do
  mount_tmpfs 128k
  name="np $np, 128 KiB file system"
  run_job "$np" 30 small.log --out "$mnt/r.h5"
  if [[ $rc -eq 124 ]]; then fail "$name: still running after 30 s (hang)"; continue; fi
  no_crash small.log || fail "$name: crash: $(grep -E 'Segmentation|core|Signal:' small.log | head -1)"
  ranks_exit small.log "$np" 4 || fail "$name: not every rank exited 4"
  grep -q "reciprocity: error: writing results file \"$mnt/r.h5\".*No space left on device" small.log ||
    { fail "$name: no message naming the file and the full disk:"; grep error small.log | head -2; }
  left=$(ls "$mnt" | grep -v '\.lock$')
  [[ -z $left ]] || fail "$name: left behind: $left"
  run_job "$np" 60 small.r.log --out r$np.h5 --resume  # on free space
  if [[ $rc -eq 0 ]] && compare ref.h5 r$np.h5 > cmp.log; then
    echo "ok   $name: exit 4 in $ms ms ($(grep -o 'reserving.*' small.log | head -1)); --resume on free space: $(cat cmp.log)"
  else
    fail "$name: --resume on free space: exit $rc"; cat cmp.log 2>/dev/null
  fi
done

# --- a disk that fills up while the sweep runs ---
mount_tmpfs 4m
launch 2 fill.log --out "$mnt/r.h5"
for _ in $(seq 300); do [[ -e $mnt/r.h5 ]] && break; sleep 0.02; done
fill_disk
full=$(free_kib)
running=no
kill -0 "$job" 2>/dev/null && running=yes
await 30
name="disk filled while the sweep ran (free $full KiB once filled, the sweep still running: $running)"
if [[ $rc -ne 0 ]]; then
  fail "$name: exit $rc"; grep -E 'error|pwritev' fill.log | head -3
elif compare ref.h5 "$mnt/r.h5" > cmp.log; then
  blocks=$(($(stat -c '%b * %B' "$mnt/r.h5")))
  size=$(stat -c %s "$mnt/r.h5")
  echo "ok   $name: exit 0 in $ms ms, $(cat cmp.log); $size bytes, $blocks allocated"
  ((blocks <= size + 4096)) || fail "$name: the reservation was not given back ($blocks bytes allocated for $size)"
else
  fail "$name: differs from the uninterrupted sweep"; cat cmp.log
fi
[[ $running == yes ]] || echo "note: the sweep ended before the disk was full; the fill came too late to test"

# --- --resume of a partial file on a full disk ---
mount_tmpfs 4m
run_job 2 60 part.log --out "$mnt/p.h5" --split-range 0:1
[[ $rc -eq 0 ]] || { fail "the partial sweep (--split-range 0:1) exited $rc"; tail -3 part.log; }
cp "$mnt/p.h5" before.h5
fill_disk 32  # room for the lock file, not for the summary
for np in 1 2; do
  name="np $np, --resume on a full disk ($(free_kib) KiB free)"
  run_job "$np" 30 full.log --out "$mnt/p.h5" --resume
  if [[ $rc -eq 124 ]]; then fail "$name: still running after 30 s (hang)"; continue; fi
  no_crash full.log || fail "$name: crash"
  ranks_exit full.log "$np" 4 || fail "$name: not every rank exited 4"
  if grep -q "reciprocity: error: writing results file \"$mnt/p.h5\".*No space left on device" full.log &&
    cmp -s before.h5 "$mnt/p.h5"; then
    echo "ok   $name: exit 4 in $ms ms, the file unchanged: $(grep -o 'error: .*' full.log | head -1)"
  else
    fail "$name: exit $rc, $(grep error full.log | head -1); $(cmp before.h5 "$mnt/p.h5" 2>&1)"
  fi
done
rm -f "$mnt/filler"
run_job 2 60 full.r.log --out "$mnt/p.h5" --resume
if [[ $rc -eq 0 ]] && compare ref.h5 "$mnt/p.h5" > cmp.log; then
  echo "ok   space freed, --resume: $(cat cmp.log)"
else
  fail "space freed, --resume: exit $rc"; cat cmp.log 2>/dev/null; tail -3 full.r.log
fi

finish
