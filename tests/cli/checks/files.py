"""Test files made or altered with h5py (the inputs of the CLI tests that the program would not
write by itself: cut, damaged, made incomplete)."""
import h5py
import numpy as np


def cut_files(base, ns):
    """n<n>.h5 for each n of `ns`: the layout of `base` cut to the first n individuals, with flows
    chosen to have zeros, ties, opposite signs and negative values (TracIn and Marginal), Marginal
    flows on 3 of the 4 runs, run (1, 1) incomplete, no summary and no digests (made-up flows)."""
    for n in map(int, ns.split()):
        rng = np.random.default_rng(n)
        with h5py.File(base, "r") as f, h5py.File(f"n{n}.h5", "w") as g:
            for k, v in f.attrs.items():
                g.attrs[k] = v
            g.attrs["individuals"] = np.int64(n)

            def copy(name, obj):
                if isinstance(obj, h5py.Dataset) and not name.startswith("summary"):
                    data = obj[...]
                    if name.startswith("flows/") or name in ("individuals/id", "runs/individual_deploy_loss"):
                        data = data[..., :n]
                    g[name] = data
            f.visititems(copy)
            S, R = g["runs/complete"].shape
            for kind in ("tracin", "marginal"):
                I = rng.lognormal(0, 1, (S, R, n)) * rng.choice([1.0, 1.0, 1.0, -1.0], (S, R, n))
                O = I * rng.lognormal(0, 0.7, (S, R, n)) * rng.choice([1.0, 1.0, 1.0, 1.0, -1.0], (S, R, n))
                if n >= 5:
                    I[:, :, 1], O[:, :, 1] = I[:, :, 0], O[:, :, 0]     # a tie
                    I[0, :, 2] = O[0, :, 2] = 0.0                       # both zero: r = 1
                    O[1, :, 3] = 0.0                                    # one zero: r = 0
                for side, v in (("inflow", I), ("outflow", O), ("self", 0.1 * I)):
                    name = f"flows/{kind}/{side}"
                    if name in g:
                        del g[name]
                    g[name] = v
            mc = np.ones((S, R), np.uint8)
            mc[0, 1] = 0
            g["runs/marginal_complete"] = mc
            c = g["runs/complete"][...]
            c[1, 1] = 0
            g["runs/complete"][...] = c
            for name in ("runs/digest", "runs/marginal_digest"):  # flows made up here: no digests
                if name in g:
                    del g[name]
    return True


def compact_snr(path):
    """`path` as summarised before the SNR arrays were per individual: the SNR arrays hold only
    the defined values, no *_all_runs arrays."""
    with h5py.File(path, "a") as f:
        for k in list(f["summary"]):
            if "snr" in k:
                v = f["summary"][k][...]
                del f["summary"][k]
                if not k.endswith("all_runs") and k != "snr_conditional":
                    f["summary"][k] = v[np.isfinite(v)]
    return True


def report_inputs(syn):
    """Inputs of test_report.sh from the complete file `syn`: other.h5 (HDF5, not results),
    incomplete.h5 (runs (0, 1) and (2, 0) incomplete), marginal.h5 (a stand-in for Marginal flows:
    1.1 x TracIn's, run (1, 1) without them; no digests: -1, not recorded)."""
    import shutil
    with h5py.File("other.h5", "w") as f:
        f["x"] = np.arange(3)
    shutil.copy(syn, "incomplete.h5")
    with h5py.File("incomplete.h5", "a") as f:
        c = f["runs/complete"][...]
        c[0, 1] = 0
        c[2, 0] = 0
        f["runs/complete"][...] = c
    shutil.copy(syn, "marginal.h5")
    with h5py.File("marginal.h5", "a") as f:
        for side in ("inflow", "outflow", "self"):
            f["flows/marginal/" + side] = 1.1 * f["flows/tracin/" + side][...]
        m = np.ones(f["runs/complete"].shape, np.uint8)
        m[1, 1] = 0
        f["runs/marginal_complete"] = m
        f["runs/marginal_digest"] = np.full(m.shape, -1, np.int64)
    return True


def regression_csv(path, rows="60", seed="1"):
    """A csv regression data set: header a,b,c,label, `rows` rows of 3 normal features and a
    linear label with noise."""
    rng = np.random.default_rng(int(seed))
    x = rng.normal(size=(int(rows), 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + rng.normal(scale=0.5, size=int(rows))
    with open(path, "w") as f:
        f.write("a,b,c,label\n")
        for row, label in zip(x, y):
            f.write(",".join(f"{v:.6f}" for v in row) + f",{label:.6f}\n")
    return True


def attr(path, name):
    """Print the root attribute `name` of `path` as text (false when the file or it is absent)."""
    from common import text
    try:
        with h5py.File(path, "r") as f:
            print(text(f.attrs[name]))
            return True
    except (OSError, KeyError):
        return False


def complete_runs(path):
    """Print the number of runs /runs/complete flags (false when the file cannot be read)."""
    try:
        with h5py.File(path, "r") as f:
            print(int(f["runs/complete"][...].sum()))
            return True
    except (OSError, KeyError):
        return False


def remove(path, *datasets):
    """Delete `datasets` from the file (an earlier version's file, without them)."""
    with h5py.File(path, "r+") as f:
        for name in datasets:
            del f[name]
    return True


def foreign_hdf5(path, status=None):
    """An HDF5 file that is not a results file (one dataset /x; a root attribute status if given)."""
    with h5py.File(path, "w") as f:
        f["x"] = [1, 2, 3]
        if status is not None:
            f.attrs["status"] = status
    return True


def fingerprint(*paths):
    """Print the data_fingerprint these input files should give: zlib's CRC-32 and size of each,
    `crc32:<8 hex>/<bytes>`, comma-separated."""
    import zlib
    print(",".join("crc32:%08x/%d" % (zlib.crc32(b) & 0xffffffff, len(b)) for b in (open(p, "rb").read() for p in paths)))
    return True


def bump_digit(source, line, out):
    """A copy of `source` whose last digit on line `line` (1-based) is changed (the same size)."""
    import re
    lines = open(source, "rb").read().split(b"\n")
    k = int(line) - 1
    m = list(re.finditer(rb"[0-9]", lines[k]))[-1]
    lines[k] = lines[k][:m.start()] + bytes([48 + (lines[k][m.start()] - 48 + 1) % 10]) + lines[k][m.end():]
    open(out, "wb").write(b"\n".join(lines))
    return True


def linear_rows_csv():
    """Print a csv of 40 rows x1,x2,y, each its own individual (y linear in x1, x2 plus a pattern)."""
    print("x1,x2,y")
    for i in range(40):
        x1, x2 = (i * 37 % 19) / 10, (i * 11 % 13) / 10
        print(f"{x1:.1f},{x2:.1f},{2 * x1 - x2 + ((i * 7 % 5) - 2) / 10:.2f}")
    return True


def remove_attributes(path, *names):
    """Delete root attributes (a file of a version before them)."""
    with h5py.File(path, "a") as f:
        for name in names:
            del f.attrs[name]
    return True


def value(path, expression):
    """Print the value of a Python expression over the file `f` (h5py.File), with np and h5py
    (several comma-separated: their values, space-separated)."""
    with h5py.File(path, "r") as f:
        result = eval(expression, {"f": f, "np": np, "h5py": h5py})  # noqa: S307 - the tests' own expressions
    from common import text
    print(*(text(v) for v in (result if isinstance(result, tuple) else (result,))))
    return True


def small_regression_csv(path):
    """r.csv: 30 rows x1,x2,y with y = 2 x1 - x2 + noise."""
    import random
    rng = random.Random(5)
    with open(path, "w") as f:
        f.write("x1,x2,y\n")
        for _ in range(30):
            a, b = rng.uniform(-1, 1), rng.uniform(-1, 1)
            f.write(f"{a:.6f},{b:.6f},{2 * a - b + rng.gauss(0, 0.1):.6f}\n")
    return True


def small_diabetes(directory):
    """20 diabetes-shaped rows of our own in `directory` (diabetes_data_raw.csv: 10 features a row,
    diabetes_target.csv: a label a row)."""
    import random
    rng = random.Random(11)
    with open(f"{directory}/diabetes_data_raw.csv", "w") as x, open(f"{directory}/diabetes_target.csv", "w") as y:
        for _ in range(20):
            row = [rng.uniform(-1, 1) for _ in range(10)]
            x.write(" ".join(f"{v:.5f}" for v in row) + "\n")
            y.write(f"{100 + 50 * row[0] - 30 * row[3] + rng.gauss(0, 5):.4f}\n")
    return True


def movielens_with_users(directory):
    """A small MovieLens 100K in `directory`: u.user of 30 users (age, gender alternating, one of 4
    occupations by u % 4) and u.data of 6 to 12 ratings each of 20 items (no pair twice)."""
    import random
    random.seed(3)
    occ = ["student", "engineer", "artist", "other"]
    with open(f"{directory}/u.user", "w") as f:
        for u in range(1, 31):
            f.write(f"{u}|{15 + 2 * u}|{'MF'[u % 2]}|{occ[u % 4]}|0000{u}\n")
    with open(f"{directory}/u.data", "w") as f:
        seen = set()
        for u in range(1, 31):  # every user rates a few items
            for _ in range(6 + u % 7):
                i = random.randint(1, 20)
                while (u, i) in seen:  # a (user, item) pair is rated once (a repeat is refused)
                    i = random.randint(1, 20)
                seen.add((u, i))
                f.write(f"{u}\t{i}\t{random.randint(1, 5)}\t88125{u:04d}\n")
    return True
