#!/usr/bin/env python3
# compare_results.py <reference.h5> <file.h5> [partial]: every dataset under /flows and /runs of
# <file.h5> equals the reference (exactly or to 1e-12 relative, NaN where NaN). Without
# "partial" also every run complete and status "complete"; with it, only the runs the file flags
# complete are compared (a killed or failed file), and exit status 3 means the file is unreadable.
# Shared by the CLI tests that check a resumed file against an uninterrupted sweep (the `compare`
# function of lib.sh).
import sys, h5py, numpy as np
ref_path, path = sys.argv[1], sys.argv[2]
partial = len(sys.argv) > 3
try:
    f = h5py.File(path, "r")
except Exception as e:
    print(f"{path}: h5py cannot open it: {e}")
    sys.exit(3 if partial else 1)
ref = h5py.File(ref_path, "r")
names = []
def per_run(o):  # the run datasets, not the coordinates (dimension scales) linked into the groups
    return isinstance(o, h5py.Dataset) and o.attrs.get("CLASS") != b"DIMENSION_SCALE"
for group in ("flows", "runs"):
    ref[group].visititems(lambda n, o, g=group: names.append(g + "/" + n) if per_run(o) else None)
# The run digests (/runs/digest, /runs/marginal_digest) are CRCs of the rows compared here: rows
# equal to 1e-12 but not bit for bit (another rank count) have other digests. Each file's digests
# are checked against its own rows by the program and the Python reader instead.
names = [n for n in names if not n.endswith("digest")]
bad = []
try:
    done = f["runs/complete"][...].astype(bool)
except Exception as e:
    print(f"{path}: cannot read /runs/complete: {e}"); sys.exit(1)
S, R = ref["runs/complete"].shape
if not partial:
    status = f.attrs.get("status", b"")
    status = status.decode() if isinstance(status, bytes) else str(status)
    if status != "complete":
        bad.append(f"status is {status!r}")
    if done.shape != (S, R) or not done.all():
        bad.append(f"/runs/complete is not all 1 ({int(done.sum())} of {done.size}, shape {done.shape})")
elif done.shape[1:] != (R,) or done.shape[0] > S:
    bad.append(f"/runs/complete has shape {done.shape}")
compared = 0
for n in names:
    if n not in f:
        if not partial: bad.append(f"{n} missing")
        continue
    a, b = ref[n][...], f[n][...]
    if partial:
        # Only the leading (split, seed) cells flagged complete in the killed file.
        if b.ndim < 2 or b.shape[1:] != a.shape[1:]:
            bad.append(f"{n} shape {b.shape} vs {a.shape}"); continue
        k = min(a.shape[0], b.shape[0], done.shape[0])
        sel = done[:k]
        a, b = a[:k][sel], b[:k][sel]
    elif a.shape != b.shape:
        bad.append(f"{n} shape {b.shape} != {a.shape}"); continue
    a, b = a.astype(float), b.astype(float)
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    same = np.array_equal(nan_a, nan_b) and np.all(
        (a == b) | nan_a | (np.abs(a - b) <= 1e-12 * np.maximum(np.abs(a), np.abs(b))))
    if not same:
        d = np.nanmax(np.abs(a - b)) if a.size else 0
        bad.append(f"{n} differs (max abs difference {d:.3g})")
    compared += 1
for b_ in bad:
    print(f"{path}: {b_}")
print(f"{path}: compared {compared} datasets" + (f" on {int(done.sum())} complete run(s)" if partial else "")
      + (" -- equal" if not bad else ""))
sys.exit(1 if bad else 0)
