#!/usr/bin/env bash
# Checksums: every written dataset has HDF5's Fletcher32 filter, so a damaged byte inside a raw
# chunk (a run's flows) is detected on read: --summarize and --resume exit 4 naming the file and
# the checksum (--summarize leaves the file as it was; --resume records the failure in its status), h5py refuses the chunk too, and an undamaged copy still summarises.
# A chunk zeroed with its checksum is caught by the run digests (program and Python reader).
# Usage: test_checksums.sh <reciprocity binary> <shared data dir> <source dir>
source "$(dirname "$0")/lib.sh" "$@"
py=/usr/bin/python3
"$py" -c 'import h5py' 2>/dev/null || { echo "skip: h5py is not installed for $py"; exit 77; }
tiny=(--synthetic-users 30 --synthetic-items 20 --synthetic-ratings 300 --splits 3 --seeds 1 --steps 5 --learning-rate 1)

timeout 60 mpirun -n 2 --oversubscribe "$bin" "${tiny[@]}" --out ok.h5 --quiet >/dev/null 2>&1 || fail "the sweep"
check "every written dataset is checksummed (Fletcher32)" "$py" - <<'PY'
import h5py, sys
missing = []
def visit(name, obj):
    if isinstance(obj, h5py.Dataset) and obj.chunks and obj.fletcher32 is False and obj.attrs.get('NAME', b'') == b'':
        missing.append(name)
with h5py.File('ok.h5', 'r') as f:
    f.visititems(visit)
    ok = f['/flows/tracin/inflow'].fletcher32 and f['/runs/complete'].fletcher32
print('unchecked:', missing) if missing else None
sys.exit(0 if ok and not missing else 1)
PY

# Flip one byte in the middle of split 1's inflow chunk.
cp ok.h5 bad.h5
"$py" - <<'PY' || fail "damaging the chunk"
import h5py
with h5py.File('bad.h5', 'r') as f:
    info = f['/flows/tracin/inflow'].id.get_chunk_info_by_coord((1, 0, 0))
with open('bad.h5', 'r+b') as g:
    g.seek(info.byte_offset + info.size // 2)
    b = g.read(1)
    g.seek(info.byte_offset + info.size // 2)
    g.write(bytes([b[0] ^ 0xFF]))
PY
for mode in summarize resume; do
  before=$(md5sum < bad.h5)
  if [[ $mode == summarize ]]; then args=(--summarize bad.h5); else args=("${tiny[@]}" --out bad.h5 --resume); fi
  out=$(timeout 60 mpirun -n 2 --oversubscribe "$bin" "${args[@]}" 2>&1)
  rc=$?
  if [[ $rc -eq 4 ]] && grep -q 'reciprocity: error: .*"bad.h5".*Fletcher32 checksum' <<<"$out"; then
    echo "ok   --$mode of a damaged chunk: exit 4 naming the file and the checksum"
  else
    fail "--$mode of a damaged chunk: exit $rc"; echo "$out" | head -3
  fi
  if [[ $mode == summarize ]]; then
    [[ $(md5sum < bad.h5) == "$before" ]] && echo "ok   --summarize leaves the damaged file as it was" || fail "--summarize changed the damaged file"
  fi
done
# --resume had reopened the file: its status now says why it failed; the runs are untouched.
check "--resume records the failure in the file's status" "$py" -c '
import h5py, numpy as np, sys
bad, ok = h5py.File("bad.h5", "r"), h5py.File("ok.h5", "r")
status = bad.attrs["status"]
status = status.decode() if isinstance(status, bytes) else status
same = all(np.array_equal(bad["/flows/tracin/inflow"][s, 0, :], ok["/flows/tracin/inflow"][s, 0, :]) for s in (0, 2))
sys.exit(0 if status.startswith("failed: ") and "Fletcher32" in status and same else 1)'
check "h5py refuses the damaged chunk" "$py" -c '
import h5py, sys
f = h5py.File("bad.h5", "r")
try:
    f["/flows/tracin/inflow"][1, 0, :]
except OSError as e:
    sys.exit(0 if "Fletcher32" in str(e) else 1)
sys.exit(1)'
check "the other chunks still read" "$py" -c '
import h5py
f = h5py.File("bad.h5", "r")
f["/flows/tracin/inflow"][0, 0, :]; f["/flows/tracin/inflow"][2, 0, :]'
timeout 60 mpirun -n 2 --oversubscribe "$bin" --summarize ok.h5 >/dev/null 2>&1 && echo "ok   the undamaged file summarises" || fail "--summarize ok.h5"

# A chunk zeroed together with its Fletcher32 checksum (the checksum of zeros is zero: HDF5's
# check passes) is caught by the run's digest (/runs/digest): --summarize, --resume and --merge
# (2 ranks: every rank ends within 30 s, naming the input; no output marked complete) and the
# Python reader all refuse it.
cp ok.h5 zero.h5
"$py" - <<'PY' || fail "zeroing the chunk"
import h5py
with h5py.File('zero.h5', 'r') as f:
    info = f['/flows/tracin/inflow'].id.get_chunk_info_by_coord((1, 0, 0))
with open('zero.h5', 'r+b') as g:
    g.seek(info.byte_offset)
    g.write(bytes(info.size))
with h5py.File('zero.h5', 'r') as f:   # the premise: HDF5 reads the zeroed chunk without complaint
    assert not f['/flows/tracin/inflow'][1, 0, :].any()
PY
for mode in summarize resume merge; do
  case $mode in
    summarize) args=(--summarize zero.h5) ;;
    resume) args=("${tiny[@]}" --out zero.h5 --resume) ;;
    merge) args=(--merge zero.h5 --out merged.h5) ;;
  esac
  t0=$(date +%s)
  out=$(timeout 30 mpirun -n 2 --oversubscribe "$bin" "${args[@]}" 2>&1)
  rc=$?
  if [[ $rc -eq 4 ]] && grep -q 'reciprocity: error: .*run (split 1, seed 0) does not match its digest' <<<"$out" &&
     { [[ $mode != merge ]] || grep -q '"zero.h5"' <<<"$out"; }; then
    echo "ok   --$mode of a chunk zeroed with its checksum: exit 4 in $(( $(date +%s) - t0 )) s, the run named as damaged"
  else
    fail "--$mode of a zeroed chunk: exit $rc"; echo "$out" | grep -v '^\s*$' | head -3
  fi
done
st=$("$py" -c 'import h5py; s=h5py.File("merged.h5","r").attrs["status"]; print(s.decode() if isinstance(s,bytes) else s)' 2>&1)
[[ $st != complete* ]] && echo "ok   the failed merge's output is not marked complete ($st)" || fail "the failed merge's output says $st"
check "the Python reader refuses the zeroed chunk" pycheck readers.refuses_digest zero.h5
finish
