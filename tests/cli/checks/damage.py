"""Damaged results files: a flipped byte in a chunk, a chunk zeroed with its checksum
(tests/cli/test_checksums.sh)."""
import h5py
import numpy as np

from common import text


def fletcher32_everywhere(path):
    """Every chunked dataset (but the dimension-scale names) carries the Fletcher32 filter, the
    flows and the completion flags included."""
    missing = []

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and obj.chunks and obj.fletcher32 is False and obj.attrs.get("NAME", b"") == b"":
            missing.append(name)
    with h5py.File(path, "r") as f:
        f.visititems(visit)
        ok = f["/flows/tracin/inflow"].fletcher32 and f["/runs/complete"].fletcher32
    if missing:
        print("unchecked:", missing)
    return bool(ok) and not missing


def chunk_of(path, dataset, coord):
    with h5py.File(path, "r") as f:
        return f[dataset].id.get_chunk_info_by_coord(coord)


def flip_byte(path):
    """Flip one byte in the middle of split 1's chunk of /flows/tracin/inflow."""
    info = chunk_of(path, "/flows/tracin/inflow", (1, 0, 0))
    with open(path, "r+b") as g:
        g.seek(info.byte_offset + info.size // 2)
        b = g.read(1)
        g.seek(info.byte_offset + info.size // 2)
        g.write(bytes([b[0] ^ 0xFF]))
    return True


def zero_chunk(path):
    """Zero split 1's chunk of /flows/tracin/inflow, checksum included; HDF5 then reads it without
    complaint (the premise of the digests)."""
    info = chunk_of(path, "/flows/tracin/inflow", (1, 0, 0))
    with open(path, "r+b") as g:
        g.seek(info.byte_offset)
        g.write(bytes(info.size))
    with h5py.File(path, "r") as f:
        return not f["/flows/tracin/inflow"][1, 0, :].any()


def failure_recorded(bad_path, ok_path):
    """The status of the damaged file says why its job failed (Fletcher32); its other runs are
    those of the undamaged file."""
    bad, ok = h5py.File(bad_path, "r"), h5py.File(ok_path, "r")
    status = text(bad.attrs["status"])
    same = all(np.array_equal(bad["/flows/tracin/inflow"][s, 0, :], ok["/flows/tracin/inflow"][s, 0, :]) for s in (0, 2))
    print(f"    status: {status}")
    return status.startswith("failed: ") and "Fletcher32" in status and same


def h5py_refuses(path):
    """h5py refuses the damaged chunk (a Fletcher32 error) and reads the others."""
    f = h5py.File(path, "r")
    f["/flows/tracin/inflow"][0, 0, :]
    f["/flows/tracin/inflow"][2, 0, :]
    try:
        f["/flows/tracin/inflow"][1, 0, :]
    except OSError as e:
        return "Fletcher32" in str(e)
    return False


def overwrite_headers(src):
    """mid.h5, midhdr.h5: copies of `src` with 256 random bytes on the object header nearest the
    middle of the file, and on the header of /flows/tracin/inflow (which every open reads);
    midraw.h5: 640 random bytes on a flow chunk (raw data, undetectable)."""
    import os
    import shutil
    size = os.path.getsize(src)
    headers = {}
    with h5py.File(src, "r") as f:
        f.visititems(lambda n, o: headers.__setitem__(n, h5py.h5o.get_info(o.id).addr))
    middle = min(headers, key=lambda n: abs(headers[n] - size // 2))
    rng = np.random.default_rng(7)
    for dst, name in (("mid.h5", middle), ("midhdr.h5", "flows/tracin/inflow")):
        shutil.copy(src, dst)
        with open(dst, "r+b") as g:
            g.seek(headers[name])
            g.write(rng.integers(0, 256, 256, dtype=np.uint8).tobytes())
        print(f"{dst}: header of /{name} at byte {headers[name]} of {size} overwritten")
    shutil.copy(src, "midraw.h5")
    with h5py.File(src, "r") as f:
        off = f["flows/tracin/outflow"].id.get_chunk_info(0).byte_offset
    with open("midraw.h5", "r+b") as g:
        g.seek(off)
        g.write(rng.integers(0, 256, 640, dtype=np.uint8).tobytes())
    return True
