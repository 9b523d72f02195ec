"""k nearest neighbours: do outliers have inflow without outflow? (the paper's remarks; docs/regimes.md)

Reads results files written with --model knn and the data each was computed on (the file's
config_dataset and config_data, or --data), and measures each individual's isolation: the mean,
over its rows, of the Euclidean distance to the K-th nearest row of another individual (K the
file's config_neighbours; features standardised with the whole data set's mean and population
standard deviation). The isolation depends on the data alone, not on the flows or the splits.
Individuals are cut into isolation deciles; per decile it prints the mean Marginal inflow and
outflow (means over the runs, a run where the individual is not deployed or not trained counting
zero, docs/method.md section 2), their mean absolute values with standard errors over the decile's
individuals, and the fraction of individuals whose outflow is exactly 0 in every run (nobody's
neighbour, or a neighbour whose removal changed no prediction: a unanimous vote stays unanimous). With --out DIR it writes
<label>_knn_outliers.csv and <label>_knn_outliers.png (mean inflow against mean outflow per
individual, coloured by isolation; and the deciles' mean |inflow| and |outflow|).

  tools/knn results/regime_knn_diabetes.h5 results/regime_knn_breast-cancer.h5 --out results/regime_knn

The data loaders here repeat the program's formats for the health sets and csv (docs/options.md,
--dataset): diabetes_data_raw.csv.gz (whitespace-separated rows of 10 features) and
breast_cancer.csv (a header line, then 30 features and the 0/1 label per row); csv: a header line,
then features, label and, with config_csv-individual, the individual id. Exit status: 0 done,
2 a file that cannot be used (named in the message), 3 the output cannot be written.
"""
import csv
import gzip
import math
import os
import sys

import numpy as np

from . import results as rr
from .cli import files_parser
from .style import pyplot

EXIT_REFUSED, EXIT_OUTPUT = 2, 3


class Refused(Exception):
    pass


def load_features(dataset, data, csv_individual):
    """(features [rows x p], individual id of each row) of the data the program read."""
    if dataset == "diabetes":
        path = os.path.join(data, "diabetes_data_raw.csv.gz") if os.path.isdir(data) else data
        with gzip.open(path, "rt") as f:
            x = np.array([[float(v) for v in line.split()] for line in f if line.strip()])
        return x, np.arange(len(x))
    if dataset == "breast-cancer":
        path = os.path.join(data, "breast_cancer.csv") if os.path.isdir(data) else data
        with open(path) as f:
            rows = list(csv.reader(f))[1:]
        x = np.array([[float(v) for v in r[:-1]] for r in rows if r])
        return x, np.arange(len(x))
    if dataset == "csv":
        with open(data) as f:
            rows = [r for r in list(csv.reader(f))[1:] if r]
        if csv_individual:
            return np.array([[float(v) for v in r[:-2]] for r in rows]), np.array([int(r[-1]) for r in rows])
        return np.array([[float(v) for v in r[:-1]] for r in rows]), np.arange(len(rows))
    raise Refused(f"dataset {dataset}: --model knn fits diabetes, breast-cancer or csv")


def isolation(x, owner, ids, K):
    """Per individual (in the order of `ids`): the mean over its rows of the distance to the
    K-th nearest row of another individual, on features standardised over all rows."""
    sd = x.std(axis=0)
    z = (x - x.mean(axis=0)) / np.where(sd > 1e-12, sd, 1.0)
    sq = (z * z).sum(axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * z @ z.T, 0.0)
    d2[owner[:, None] == owner[None, :]] = np.inf  # rows of the same individual are not neighbours
    kth = np.sqrt(np.partition(d2, K - 1, axis=1)[:, K - 1])
    index = {v: k for k, v in enumerate(ids)}
    out = np.zeros(len(ids))
    count = np.zeros(len(ids))
    for row, who in enumerate(owner):
        out[index[who]] += kth[row]
        count[index[who]] += 1
    return out / np.maximum(count, 1)


def isolation_deciles(iso):
    """1..10 per individual by rank of isolation (10: the most isolated tenth)."""
    rank = np.argsort(np.argsort(iso, kind="stable"), kind="stable")
    return np.minimum(rank * 10 // len(iso), 9) + 1


def analyse(path, data_override):
    with rr.open_results(path) as f:
        cfg = f.config
        if str(cfg.get("model", "")) != "knn":
            raise Refused(f'"{path}": not a --model knn file (config_model {cfg.get("model", "?")})')
        used = f.values("runs/complete").astype(bool)
        if "runs/marginal_complete" in f:
            used &= f.values("runs/marginal_complete").astype(bool)
        if not used.any():
            raise Refused(f'"{path}": no complete run')
        inflow = f.values("flows/marginal/inflow")[used]     # [runs, N]
        outflow = f.values("flows/marginal/outflow")[used]
        ids = f.coords("individual")
        data = data_override or str(cfg.get("data", ""))
        try:
            x, owner = load_features(str(cfg["dataset"]), data, cfg["csv-individual"])
        except OSError as e:
            raise Refused(f'"{path}": cannot read its data "{data}" ({e.strerror}); give --data') from None
        if len(x) != int(f.values("runs/train_examples").ravel()[0] + f.values("runs/deploy_examples").ravel()[0]):
            raise Refused(f'"{path}": its data "{data}" has {len(x)} rows, not the file\'s: give --data')
        iso = isolation(x, owner, ids, int(cfg["neighbours"]))
    mean_in, mean_out = inflow.mean(axis=0), outflow.mean(axis=0)
    zero_out = (outflow == 0).all(axis=0)
    se = lambda v: float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else math.nan  # noqa: E731
    deciles = isolation_deciles(iso) - 1
    rows = []
    for d in range(10):
        m = deciles == d
        rows.append({"decile": d + 1, "individuals": int(m.sum()), "isolation": float(np.median(iso[m])),
                     "mean_inflow": float(mean_in[m].mean()), "mean_outflow": float(mean_out[m].mean()),
                     "mean_abs_inflow": float(np.abs(mean_in[m]).mean()), "se_abs_inflow": se(np.abs(mean_in[m])),
                     "mean_abs_outflow": float(np.abs(mean_out[m]).mean()),
                     "se_abs_outflow": se(np.abs(mean_out[m])), "zero_outflow": float(zero_out[m].mean())})
    return {"path": path, "dataset": str(cfg["dataset"]), "K": int(cfg["neighbours"]), "runs": int(used.sum()),
            "iso": iso, "mean_in": mean_in, "mean_out": mean_out, "rows": rows}


COLUMNS = ["decile", "individuals", "isolation", "mean_inflow", "mean_outflow", "mean_abs_inflow", "se_abs_inflow",
           "mean_abs_outflow", "se_abs_outflow", "zero_outflow"]


def print_table(a):
    print(f"{a['path']}: {a['dataset']}, K = {a['K']}, {a['runs']} runs; individuals by isolation decile "
          "(10: the most isolated)")
    print("decile  n    isolation  mean inflow  mean outflow  mean |inflow| (se)    mean |outflow| (se)   "
          "|in|/|out|  outflow 0 in every run")
    for r in a["rows"]:
        ratio = r["mean_abs_inflow"] / r["mean_abs_outflow"] if r["mean_abs_outflow"] > 0 else math.inf
        print(f"{r['decile']:>6}  {r['individuals']:<4} {r['isolation']:9.3f}  {r['mean_inflow']:11.4g}  "
              f"{r['mean_outflow']:12.4g}  {r['mean_abs_inflow']:9.4g} ({r['se_abs_inflow']:7.2g})  "
              f"{r['mean_abs_outflow']:9.4g} ({r['se_abs_outflow']:7.2g})  {ratio:9.2f}  {r['zero_outflow']:10.3f}")


def plot(a, path):
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.3))
    decile = isolation_deciles(a["iso"])
    order = np.argsort(decile, kind="stable")  # the most isolated drawn last, on top
    pts = left.scatter(a["mean_out"][order], a["mean_in"][order], c=decile[order], cmap="viridis", vmin=1, vmax=10,
                       s=10, alpha=0.85)
    fig.colorbar(pts, ax=left, label="isolation decile (10: most isolated)")
    lim = max(np.abs(a["mean_in"]).max(), np.abs(a["mean_out"]).max()) * 1.05 or 1.0
    left.plot([-lim, lim], [-lim, lim], color="grey", lw=0.7, ls="--", label="inflow = outflow")
    left.set_xlabel("mean Marginal outflow")
    left.set_ylabel("mean Marginal inflow")
    left.legend(loc="upper left", fontsize=8)
    dec = [r["decile"] for r in a["rows"]]
    right.bar(np.array(dec) - 0.2, [r["mean_abs_inflow"] for r in a["rows"]], width=0.4, label="mean |inflow|",
              yerr=[r["se_abs_inflow"] for r in a["rows"]], capsize=2)
    right.bar(np.array(dec) + 0.2, [r["mean_abs_outflow"] for r in a["rows"]], width=0.4, label="mean |outflow|",
              yerr=[r["se_abs_outflow"] for r in a["rows"]], capsize=2)
    right.set_xlabel("isolation decile (10: most isolated)")
    right.set_ylabel("per individual, means over runs")
    right.set_xticks(dec)
    right.legend(fontsize=8)
    fig.suptitle(f"{a['dataset']}: k nearest neighbours (K = {a['K']}), {a['runs']} runs: Marginal flows against "
                 "isolation (distance to the K-th nearest row of another individual)", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_outputs(a, outdir, label):
    """<label>_knn_outliers.csv and .png in `outdir`; returns their names."""
    names = [f"{label}_knn_outliers.csv", f"{label}_knn_outliers.png"]
    with open(os.path.join(outdir, names[0]), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(a["rows"])
    plot(a, os.path.join(outdir, names[1]))
    return names


def knn_figures(path, label, outdir):
    """For the report: ([(name, description)], notes) of a --model knn file (nothing otherwise)."""
    with rr.open_results(path) as f:
        if f.text_attrs.get("config_model") != "knn":
            return [], []
    try:
        a = analyse(path, None)
    except Refused as e:
        return [], [f"{path}: kNN isolation figure skipped: {e}"]
    top = a["rows"][-1]
    names = write_outputs(a, outdir, label)
    return ([(names[1], f"{path}: kNN Marginal inflow vs outflow per individual by isolation decile"),
             (names[0], f"{path}: kNN flows per isolation decile")],
            [f"{path}: the most isolated tenth: mean |inflow| {top['mean_abs_inflow']:.4g}, mean |outflow| "
             f"{top['mean_abs_outflow']:.4g}; {100 * top['zero_outflow']:.0f}% with outflow 0 in every run"])


def main(argv):
    p = files_parser("knn", __doc__, "FILE.h5", "results files written with --model knn",
                     "directory for <label>_knn_outliers.csv and .png")
    p.add_argument("--data", help="the data file or directory, when the file's config_data has moved")
    args = p.parse_args(argv)
    results = []
    for path in args.files:
        try:
            results.append(analyse(path, args.data))
        except Refused as e:
            print(f"knn: {e}", file=sys.stderr)
            return EXIT_REFUSED
        except (OSError, KeyError, ValueError) as e:
            print(f'knn: "{path}": cannot read ({e})', file=sys.stderr)
            return EXIT_REFUSED
    for a in results:
        print_table(a)
    if args.out:
        try:
            os.makedirs(args.out, exist_ok=True)
            for a in results:
                write_outputs(a, args.out, os.path.splitext(os.path.basename(a["path"]))[0])
        except OSError as e:
            print(f'knn: writing to "{args.out}": {e}', file=sys.stderr)
            return EXIT_OUTPUT
    return 0
