"""The runs of results files: divergence, rank invariance, per-individual losses, the paper's
figures at fixed seeds (tests/cli/test_divergence.sh, test_rank_invariance.sh,
test_individual_loss.sh, test_paper_health.sh, test_paper_movielens.sh)."""
import csv

import h5py
import numpy as np

from common import Claims, text


def diverged(path):
    """Every run of the file diverged (--on-divergence continue): none complete, each with its
    step in /runs/diverged_step; the status is not complete."""
    f = h5py.File(path, "r")
    claim = Claims()
    claim(not f["runs/complete"][...].any(), f"no run complete: {f['runs/complete'][...].tolist()}")
    claim((f["runs/diverged_step"][...] > 0).all(), f"diverged steps {f['runs/diverged_step'][...].tolist()}")
    claim(text(f.attrs["status"]) != "complete", f"status {text(f.attrs['status'])!r}")
    return claim.holds


def same_as(reference, *others):
    """Every dataset of `reference` (but the run digests, CRCs of rows that agree to 1e-9, not bit
    for bit) equals that of each other file to 1e-9 relative, NaN where NaN; the attribute
    configuration is equal."""
    ref = h5py.File(reference, "r")
    names = []
    ref.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
    # Each file's own digests are checked against its rows by the program and the Python reader.
    names = [n for n in names if not n.endswith("digest")]
    bad = 0
    for path in others:
        f = h5py.File(path, "r")
        for n in names:
            a, b = ref[n][...], f[n][...]
            if a.shape != b.shape:
                print(f"FAIL {path}:{n} shape {b.shape} != {a.shape}")
                bad += 1
                continue
            a, b = a.astype(float), b.astype(float)
            same_nan = np.array_equal(np.isnan(a), np.isnan(b))
            a, b = np.nan_to_num(a), np.nan_to_num(b)
            scale = max(np.max(np.abs(a)) if a.size else 0.0, 1e-300)
            d = np.max(np.abs(a - b)) / scale if a.size else 0.0
            if not (d < 1e-9 and same_nan):
                print(f"FAIL {path}:{n} relative difference {d:.3g}")
                bad += 1
        if ref.attrs["configuration"] != f.attrs["configuration"]:
            print(f"FAIL {path}: attribute configuration differs")
            bad += 1
        print(f"compared {len(names)} datasets of {path} with {reference}")
    return bad == 0


def individual_losses(health, *others):
    """/runs/individual_deploy_loss summed over the individuals and divided by |D| is the mean
    deployment loss (relative 1e-12), never negative; in `health` (with split masks, one row per
    individual) it is 0 exactly for the training individuals and positive for the deployed."""
    bad = 0
    for path in (health,) + others:
        f = h5py.File(path, "r")
        L = f["runs/individual_deploy_loss"][...]
        assert L.shape[2] == f["individuals/id"].shape[0]
        total = L.sum(axis=2) / f["runs/deploy_examples"][...]
        d = np.abs(total - f["runs/deploy_loss_final"][...]).max() / np.abs(f["runs/deploy_loss_final"][...]).max()
        print(f"{path}: max relative |sum_i loss_i / |D| - deploy_loss_final| = {d:.2e}")
        bad += d > 1e-12
        bad += (L < 0).any()
        if path == health:
            mask = f["splits/train_mask"][...]                  # [S, M], one row per individual here
            zero_where_trains = np.all(L[:, 0, :][mask == 1] == 0)
            positive_where_deployed = np.all(L[:, 0, :][mask == 0] > 0)
            print(f"{path}: zero for training individuals {zero_where_trains}, positive for deployed "
                  f"{positive_where_deployed}")
            bad += not (zero_where_trains and positive_where_deployed)
    return bad == 0


def merged_without(path, dataset, complete):
    """The file lacks `dataset` and has `complete` complete runs."""
    f = h5py.File(path, "r")
    return dataset not in f and int(f["runs/complete"][...].sum()) == int(complete)


def summary_value(path, name):
    return float(h5py.File(path, "r")[f"summary/{name}"][0])


def mean_loss(path):
    return float(h5py.File(path, "r")["runs/deploy_loss_final"][...].mean())


def paper_health(diabetes, diabetes_1000, breast_cancer):
    """The health presets (docs/results.md): diabetes alpha at 0.75 in expectation >= 0.5 and
    correlation >= 0.9; trained 1000 steps, the mean deployment loss rises by +0.3% to +2% and
    alpha falls; breast cancer alpha >= 0.6."""
    claim = Claims()
    a, c = summary_value(diabetes, "alpha"), summary_value(diabetes, "correlation")
    claim(a >= 0.5, f"diabetes alpha {a:.3f} >= 0.5")
    claim(c >= 0.9, f"diabetes correlation {c:.3f} >= 0.9")
    a1 = summary_value(diabetes_1000, "alpha")
    rise = mean_loss(diabetes_1000) / mean_loss(diabetes) - 1
    claim(0.003 <= rise <= 0.02, f"diabetes 1000 steps: deployment loss {100 * rise:+.2f}% in [+0.3%, +2%]")
    claim(a1 < a, f"diabetes 1000 steps: alpha {a1:.3f} < {a:.3f}")
    b = summary_value(breast_cancer, "alpha")
    claim(b >= 0.6, f"breast cancer alpha {b:.3f} >= 0.6")
    return claim.holds


def paper_rows_health(paper_csv):
    """tools/report --paper on the health files only: the MovieLens rows say missing, the
    diabetes 1000-step loss and the breast-cancer alpha rows are reproduced, the hardest
    individual is named."""
    rows = list(csv.DictReader(open(paper_csv)))

    def find(experiment, start):
        return [r for r in rows if r["experiment"] == experiment and r["what"].startswith(start)]
    claim = Claims()
    claim(all(r["verdict"] == "missing" for r in rows if r["experiment"] == "MovieLens 100K"), "MovieLens rows say missing")
    claim([r["verdict"] for r in find("diabetes", "1000 steps instead")] == ["reproduced"],
          "diabetes 1000-step loss row reproduced")
    claim([r["verdict"] for r in find("breast cancer", "TracIn in expectation")] == ["reproduced"],
          "breast cancer alpha row reproduced")
    claim(any("id " in r["ours"] for r in find("breast cancer", "one individual")), "the hardest individual named")
    return claim.holds


def paper_movielens(path):
    """MovieLens at its preset, 2 x 2 runs: every run has at most 1% of users with a negative inflow
    and 12-22% with a negative outflow; the discrepancy's 80th percentile over the steps is at most
    1.1% x 1.25; no user has a negative inflow in expectation."""
    f = h5py.File(path, "r")
    neg_in = f["summary/single_run_negative_inflow_fraction"][...]
    neg_out = f["summary/single_run_negative_outflow_fraction"][...]
    disc = np.abs(f["runs/discrepancy"][...]).ravel()
    p80 = np.percentile(disc[np.isfinite(disc)], 80)
    e_in = float(f["summary/negative_inflow_fraction"][0])
    claim = Claims()
    claim((neg_in <= 0.01).all(), f"single-run negative inflows {np.round(100 * neg_in, 2)}% all <= 1%")
    claim(((neg_out >= 0.12) & (neg_out <= 0.22)).all(),
          f"single-run negative outflows {np.round(100 * neg_out, 1)}% all in [12%, 22%]")
    claim(p80 <= 0.011 * 1.25, f"discrepancy p80 {100 * p80:.2f}% <= 1.375%")
    claim(e_in == 0, f"negative inflows in expectation {100 * e_in:.2f}% == 0")
    return claim.holds


def differences(A, B, k=None):
    """The datasets under /flows and /runs of file A that B lacks or holds otherwise (exactly or
    to 1e-12 relative, NaN where NaN; with k, their first k splits), and how many were compared."""
    names = []
    for g in ("flows", "runs"):
        A[g].visititems(lambda n, o, g=g: names.append(g + "/" + n) if isinstance(o, h5py.Dataset) else None)
    bad = []
    for n in names:
        if n not in B:
            bad.append(f"{n} missing in {B.filename}")
            continue
        a, b = A[n][...], B[n][...]
        if k is not None:
            a, b = a[:k], b[:k]
        if a.shape != b.shape:
            bad.append(f"{n}: shape {a.shape} vs {b.shape}")
            continue
        a, b = a.astype(float), b.astype(float)
        ok = np.array_equal(np.isnan(a), np.isnan(b)) and np.all(
            (a == b) | np.isnan(a) | (np.abs(a - b) <= 1e-12 * np.maximum(np.abs(a), np.abs(b))))
        if not ok:
            bad.append(f"{n}: differs (max abs difference {np.nanmax(np.abs(a - b)):.3g})")
    return bad, len(names)


def equal_flows(a_path, b_path):
    """Every dataset under /flows and /runs of a is in b and equal (exactly or to 1e-12 relative,
    NaN where NaN)."""
    bad, n = differences(h5py.File(a_path, "r"), h5py.File(b_path, "r"))
    print("; ".join(bad) if bad else f"{n} datasets equal")
    return not bad


def equal_runs(a_path, b_path, splits=None):
    """equal_flows, and /runs/complete all 1 in both; with `splits`, only the first that many splits."""
    k = int(splits) if splits else None
    A, B = h5py.File(a_path, "r"), h5py.File(b_path, "r")
    bad, n = differences(A, B, k)
    for f, p in ((A, a_path), (B, b_path)):
        c = f["runs/complete"][...][:k] if k else f["runs/complete"][...]
        if not c.all():
            bad.append(f"{p}: /runs/complete not all 1")
    print("\n".join(bad) if bad else f"{n} datasets equal")
    return not bad


def complete(path, marginal_splits=None):
    """Status complete and every run complete; with `marginal_splits` (0: all), the Marginal runs of
    the first that many splits complete too."""
    f = h5py.File(path, "r")
    c = f["runs/complete"][...]
    msg = f"{path.split('/')[-1]}: status {text(f.attrs['status'])!r}, {int(c.sum())}/{c.size} runs"
    ok = text(f.attrs["status"]) == "complete" and c.all()
    if marginal_splits is not None:
        k = int(marginal_splits) or c.shape[0]
        m = f["runs/marginal_complete"][...][:k] if "runs/marginal_complete" in f else None
        ok = ok and m is not None and m.all()
        msg += f", Marginal {int(m.sum()) if m is not None else 0}/{k * c.shape[1]}"
    print(msg)
    return bool(ok)


def diverged_consistent(path):
    """--on-divergence continue: a run is complete exactly when /runs/diverged_step is -1, and
    some run diverged."""
    f = h5py.File(path, "r")
    c, d = f["runs/complete"][...], f["runs/diverged_step"][...]
    bad = c.astype(bool) & (d >= 0) | ~c.astype(bool) & (d < 0)
    print(f"complete {c.ravel().tolist()}, diverged_step {d.ravel().tolist()}, status {text(f.attrs['status'])!r}")
    return not bad.any() and bool((d >= 0).any())


def json_progress(stdout_file):
    """Every line of the program's output before the summary (which follows an empty line) is a
    JSON object, and there is at least one."""
    import json
    lines = open(stdout_file).read().split("\n")
    head = lines[:lines.index("")] if "" in lines else lines
    bad = []
    for line in head:
        try:
            if not isinstance(json.loads(line), dict):
                bad.append(line)
        except ValueError:
            bad.append(line)
    events = sum(1 for line in head if line not in bad)
    for line in bad:
        print("not JSON:", line[:120])
    print(f"{len(head)} lines before the summary, {events} JSON objects")
    return not bad and events > 0


def equal_to_reference(reference, path):
    """The file is complete (its status, every run) and every dataset of the reference under
    /flows and /runs equals its own (NaN where NaN, else to 1e-12 x max(1, the largest |value|))."""
    ref, f = h5py.File(reference, "r"), h5py.File(path, "r")
    bad = []
    if text(f.attrs["status"]) != "complete":
        bad.append(f"status {f.attrs['status']!r}")
    if not f["runs/complete"][...].all():
        bad.append("not every run complete")
    names = []
    for g in ("flows", "runs"):
        ref[g].visititems(lambda n, o, g=g: names.append(g + "/" + n) if isinstance(o, h5py.Dataset) else None)
    for n in names:
        a, b = ref[n][...].astype(float), f[n][...].astype(float)
        if a.shape != b.shape or not np.array_equal(np.isnan(a), np.isnan(b)) or \
                np.nanmax(np.abs(a - b), initial=0) > 1e-12 * max(1.0, np.nanmax(np.abs(a), initial=0)):
            bad.append(f"{n} differs")
    print("; ".join(bad) if bad else f"equal ({len(names)} datasets)")
    return not bad


def masks_of_diverged_seed(path, reference):
    """Print `cases=[splits whose seed 0 diverged while another seed completed] bad=[splits whose
    saved training mask differs from the reference's] frac=<share of training examples>`."""
    f, g = h5py.File(path, "r"), h5py.File(reference, "r")
    d = f["runs/diverged_step"][...]
    m, ref = f["splits/train_mask"][...], g["splits/train_mask"][...]
    cases = [s for s in range(d.shape[0]) if d[s, 0] >= 0 and (d[s, 1:] < 0).any()]
    bad = [s for s in range(d.shape[0]) if not np.array_equal(m[s], ref[s])]
    print(f"cases={cases} bad={bad} frac={m.mean():.3f}")
    return True


def any_complete(path):
    """The file claims a completed run (any 1 in /runs/complete)."""
    with h5py.File(path, "r") as f:
        return bool(f["runs/complete"][...].any())
