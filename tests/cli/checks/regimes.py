"""Results files of the regimes beyond the paper, and the inputs they are run on
(tests/cli/test_clip.sh, test_knn.sh, test_time_split.sh, test_entity_marginal.sh)."""
import csv
import random

import h5py
import numpy as np

from common import Claims, text


def verdict(bad, good):
    """Print the problems, or `good`; true when there are none."""
    print("; ".join(bad) if bad else good)
    return not bad


def clip_csv(path):
    """A small linear-regression csv (40 rows, a,b,c,y), every ninth label an outlier (+8)."""
    rng = random.Random(11)
    with open(path, "w") as f:
        f.write("a,b,c,y\n")
        for i in range(40):
            a, b, c = rng.gauss(0, 1), rng.gauss(0, 2), rng.gauss(1, 1)
            f.write(f"{a:.4f},{b:.4f},{c:.4f},{3 * a - b + 0.5 * c + rng.gauss(0, 1) + (8 if i % 9 == 0 else 0):.4f}\n")
    return True


def clip_effects(none, huge, noisy):
    """--clip 1e300 writes the unclipped flows bit for bit; --clip 0.5 (with noise) changes them;
    config_clip and config_noise-multiplier are recorded as numbers, and only when given."""
    files = [h5py.File(p, "r") for p in (none, huge, noisy)]
    bad = []
    for kind in ("tracin", "marginal"):
        for flow in ("inflow", "outflow", "self"):
            a, b, c = (f[f"flows/{kind}/{flow}"][...] for f in files)
            if not np.array_equal(a, b):
                bad.append(f"{kind} {flow}: --clip 1e300 differs from no clipping")
            if np.max(np.abs(a)) > 0 and np.max(np.abs(c - a)) <= 1e-3 * np.max(np.abs(a)):
                bad.append(f"{kind} {flow}: --clip 0.5 leaves the flows unchanged")
    if "config_clip" in files[0].attrs:
        bad.append("config_clip recorded without --clip")
    small = files[2]
    if small.attrs["config_clip"] != 0.5 or small.attrs["config_noise-multiplier"] != 0.8:
        bad.append(f"config_clip {small.attrs['config_clip']!r}, "
                   f"config_noise-multiplier {small.attrs['config_noise-multiplier']!r}")
    return verdict(bad, "huge C bit-identical to none; C 0.5 changes the flows; options recorded as numbers")


def knn_csvs():
    """reg.csv and cls.csv: 90 rows of a,b,y,who, 3 rows per individual (100..129); y a noisy
    linear label (cls.csv: 1 where y > -3)."""
    rng = random.Random(5)
    for name, classify in (("reg.csv", False), ("cls.csv", True)):
        with open(name, "w") as f:
            f.write("a,b,y,who\n")
            for i in range(90):
                a, b = rng.gauss(0, 1), rng.gauss(3, 2)
                y = 2 * a - b + rng.gauss(0, 1)
                f.write(f"{a:.4f},{b:.4f},{(1 if y > -3 else 0) if classify else round(y, 4)},{100 + i % 30}\n")
    return True


def knn_file(path):
    """A --model knn file: TracIn NaN, Marginal outflows finite and not all 0, config_neighbours 4
    and config_model knn recorded, status complete."""
    f = h5py.File(path, "r")
    bad = []
    if not np.isnan(f["flows/tracin/inflow"][...]).all():
        bad.append("TracIn flows not NaN")
    m = f["flows/marginal/outflow"][...]
    if not (np.isfinite(m).all() and np.abs(m).max() > 0):
        bad.append("Marginal outflows not finite and nonzero")
    if f.attrs["config_neighbours"] != 4 or text(f.attrs["config_model"]) != "knn":
        bad.append(f"config_neighbours {f.attrs['config_neighbours']!r}, config_model {f.attrs['config_model']!r}")
    if text(f.attrs["status"]) != "complete":
        bad.append(f"status {f.attrs['status']!r}")
    return verdict(bad, "TracIn NaN, Marginal finite, options recorded, complete")


def both_zero_count(path, printed):
    """The summary's printed count of individuals whose mean Marginal flows are both 0 (`printed`,
    empty when the summary printed none) is that of the file's flows."""
    f = h5py.File(path, "r")
    n = f["individuals/id"].shape[0]
    i, o = (f[f"flows/marginal/{s}"][...].reshape(-1, n).mean(axis=0) for s in ("inflow", "outflow"))
    counted = int(((i == 0) & (o == 0)).sum())
    print(f"    printed {printed or 0}, counted {counted}")
    return int(printed or 0) == counted


def knn_outliers(outliers_csv):
    """The paper's remark on kNN (tools/knn's deciles): the most isolated tenth has mean |inflow| at
    least 2 x its mean |outflow| and some outflows 0 in every run; the least isolated half has the
    two within [0.8, 1.25] of each other and none 0 in every run."""
    rows = list(csv.DictReader(open(outliers_csv)))
    top, low = rows[-1], rows[:5]
    r_top = float(top["mean_abs_inflow"]) / float(top["mean_abs_outflow"])
    r_low = sum(float(r["mean_abs_inflow"]) for r in low) / sum(float(r["mean_abs_outflow"]) for r in low)
    zero_low = max(float(r["zero_outflow"]) for r in low)
    print(f"most isolated tenth |in|/|out| {r_top:.2f} (>= 2), outflow always 0 for {float(top['zero_outflow']):.3f} "
          f"(> 0); least isolated half {r_low:.2f} (in [0.8, 1.25]), outflow always 0 at most {zero_low:.3f} (= 0)")
    return r_top >= 2 and float(top["zero_outflow"]) > 0 and 0.8 <= r_low <= 1.25 and zero_low == 0


def timed_ratings(path):
    """A u.data of 15 users, 12 items, 6 to 12 ratings each (no pair twice), timestamps with ties;
    users arrive in waves."""
    rng = random.Random(7)
    with open(path, "w") as f:
        for u in range(1, 16):
            start = 880000000 + (u % 5) * 86400
            items = rng.sample(range(1, 13), 6 + u % 7)  # a (user, item) pair is rated once (a repeat is refused)
            for i in items:
                f.write(f"{u}\t{i}\t{rng.randint(1, 5)}\t{start + 3600 * rng.randint(0, 40)}\n")
    return True


def time_split(path, order, ratings="u.data"):
    """A time-ordered split of `ratings`: every run trains on the number of ratings the order
    gives (time: round(0.8 M) of all; time-per-user: each user's round(0.8 n), at least 1 and one
    left when it has 2); /individuals/arrival holds each user's first timestamp, in the users'
    order of appearance; config_split-order is recorded."""
    d = np.loadtxt(ratings, dtype=np.int64)
    M = len(d)
    users, first = [], {}
    for u, t in zip(d[:, 0], d[:, 3]):
        if u not in first:
            users.append(u)
            first[u] = t
        first[u] = min(first[u], t)
    if order == "time":
        want = min(max(round(0.8 * M), 1), M - 1)
    else:
        want = 0
        for u in users:
            n = int((d[:, 0] == u).sum())
            want += n if n < 2 else min(max(round(0.8 * n), 1), n - 1)
    f = h5py.File(path, "r")
    got = f["runs/train_examples"][...].ravel()
    arrival, ids = f["individuals/arrival"][...], f["individuals/id"][...]
    bad = []
    if not np.all(got == want):
        bad.append(f"training ratings {got.tolist()}, expected {want}")
    if ids.tolist() != users or arrival.tolist() != [first[u] for u in users]:
        bad.append("arrival times differ from the first timestamps of u.data")
    if text(f.attrs["config_split-order"]) != order:
        bad.append(f"config_split-order {f.attrs['config_split-order']!r}")
    return verdict(bad, f"{want} training ratings of {M} in every run; arrival of {len(users)} users")


def entity_marginal_is_individual(path):
    """With one entity per individual, the entity Marginal flows are the individual Marginal
    flows (relative 1e-9), and not all 0."""
    f = h5py.File(path, "r")
    names = text(f.attrs["entity_names"]).split("\n")
    ids = list(f["/individuals/id"][:])
    order = [ids.index(int(n)) for n in names]          # entity e is individual order[e]
    worst = 0.0
    for kind in ("outflow", "inflow", "self"):
        ent = f["/flows/entity_marginal/" + kind][...]      # [S, R, E]
        ind = f["/flows/marginal/" + kind][...][:, :, order]
        scale = np.abs(ind).max()          # self-influence: 0 where individuals are split
        worst = max(worst, np.abs(ent - ind).max() / scale if scale > 0 else float(np.abs(ent).max() > 0))
    print("max relative difference", worst)
    return worst < 1e-9 and np.abs(f["/flows/marginal/outflow"][...]).max() > 0


def entity_marginal_groups(one, three, merged):
    """3 groups: the entity Marginal matrix's row sums minus the diagonal are the outflows, column
    sums minus the diagonal the inflows, the diagonal the self-influence; 1 rank = 3 ranks
    (relative 1e-12); the merge of two split ranges = the whole; every Marginal run complete."""
    a, b, m = (h5py.File(p, "r") for p in (one, three, merged))
    M = a["/flows/entity_marginal/matrix"][...]          # [S, R, E, E]
    d = np.diagonal(M, axis1=2, axis2=3)
    claim = Claims()
    claim(np.allclose(M.sum(axis=3) - d, a["/flows/entity_marginal/outflow"][...], rtol=1e-12, atol=0),
          "row sums minus the diagonal: outflows")
    claim(np.allclose(M.sum(axis=2) - d, a["/flows/entity_marginal/inflow"][...], rtol=1e-12, atol=0),
          "column sums minus the diagonal: inflows")
    claim(np.allclose(d, a["/flows/entity_marginal/self"][...], rtol=1e-12, atol=0), "the diagonal: self-influence")
    for k in ("matrix", "inflow", "outflow", "self"):
        x = a["/flows/entity_marginal/" + k][...]
        claim(np.allclose(x, b["/flows/entity_marginal/" + k][...], rtol=1e-12, atol=1e-12 * np.abs(x).max()),
              f"{k}: 1 rank = 3 ranks")
        claim(np.allclose(x, m["/flows/entity_marginal/" + k][...], rtol=1e-12), f"{k}: merge = whole")
    claim(a["/runs/marginal_complete"][...].all() and m["/runs/marginal_complete"][...].all(), "Marginal complete")
    claim(np.abs(M).max() > 0, f"matrix not 0 (row sums {M[0, 0].sum(axis=1)})")
    return claim.holds
