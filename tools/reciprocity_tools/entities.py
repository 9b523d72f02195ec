"""Entity figures and table (--entities files, docs/method.md section 10): `report` draws them,
and `python3 -m reciprocity_tools entities FILE.h5 ... --out DIR` alone.

entity_report(path, label, outdir) writes, for a results file holding entity flows:
  <label>_entities.csv          per entity: name, individuals, mean and sd over the complete runs of
                                inflow, outflow and self-influence, reciprocity of the means, and
                                outflow - inflow (positive: the entity gives more than it gets)
  <label>_entities_matrix.png   heat map of the entity matrix M[e, f] averaged over the runs
                                (row e gives, column f receives; diverging colours, 0 white)
  <label>_entities_flows.png    mean inflow vs mean outflow per entity, marker area ~ individuals
and returns ([(file name, description)], [notes], rows). Files without entity flows: nothing.
"""

import csv
import os
import sys

import numpy as np

from . import results as rr
from .cli import files_parser
from .metrics import reciprocity
from .style import pyplot, write_png


def entity_rows(ent):
    """Per-entity figures (dicts) from results.Results.entities()."""
    runs = ent["inflow"].shape[0]
    sd = (lambda a: a.std(axis=0, ddof=1)) if runs > 1 else (lambda a: np.full(a.shape[1], np.nan))
    mi, mo, ms = ent["inflow"].mean(axis=0), ent["outflow"].mean(axis=0), ent["self"].mean(axis=0)
    r = reciprocity(mi, mo)
    rows = []
    for e, name in enumerate(ent["names"]):
        rows.append({"entity": name, "individuals": int(ent["sizes"][e]), "runs": runs,
                     "mean_inflow": mi[e], "sd_inflow": sd(ent["inflow"])[e],
                     "mean_outflow": mo[e], "sd_outflow": sd(ent["outflow"])[e],
                     "mean_self": ms[e], "sd_self": sd(ent["self"])[e],
                     "reciprocity": r[e], "outflow_minus_inflow": mo[e] - mi[e]})
    return rows


def entity_report(path, label, outdir, plots=True):
    with rr.open_results(path) as f:
        ent = f.entities()
    if ent is None:
        return [], [], []
    if ent["matrix"].shape[0] == 0:
        return [], [f"{path}: entity figures skipped: no complete run"], []
    rows = entity_rows(ent)
    figures = []
    name = f"{label}_entities.csv"
    with open(os.path.join(outdir, name), "w", newline="") as out:
        w = csv.DictWriter(out, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    figures.append((name, f"{path}: per-entity mean flows over {rows[0]['runs']} runs"))
    if not plots:
        return figures, [], rows
    plot_matrix(ent, rows, os.path.join(outdir, f"{label}_entities_matrix.png"))
    figures.append((f"{label}_entities_matrix.png", f"{path}: heat map of the mean entity matrix"))
    plot_flows(rows, os.path.join(outdir, f"{label}_entities_flows.png"))
    figures.append((f"{label}_entities_flows.png", f"{path}: mean inflow vs outflow per entity, sizes"))
    return figures, [], rows


def plot_matrix(ent, rows, path):
    """Heat map of the mean entity matrix, the diagonal greyed out."""
    plt = pyplot()
    E = len(ent["names"])
    M = ent["matrix"].mean(axis=0)
    fig, ax = plt.subplots(figsize=(max(5, 0.35 * E + 3), max(4.5, 0.35 * E + 2)))
    # The diagonal (an entity on itself) is far larger than the flows between entities: it is
    # greyed out, so that the colour scale shows who acts on whom.
    off = ~np.eye(E, dtype=bool)
    lim = (float(np.abs(M[off]).max()) if E > 1 else 0.0) or 1.0
    cmap = plt.get_cmap("RdBu_r").copy()
    cmap.set_bad("lightgrey")
    im = ax.imshow(np.ma.masked_array(M, mask=~off), cmap=cmap, vmin=-lim, vmax=lim)
    if E <= 40:
        ax.set_xticks(range(E))
        ax.set_xticklabels(ent["names"], rotation=90, fontsize=7)
        ax.set_yticks(range(E))
        ax.set_yticklabels(ent["names"], fontsize=7)
    fig.colorbar(im, ax=ax, shrink=0.8, label="mean M[e, f] (loss)")
    ax.set_title(f"entity TracIn matrix, mean of {rows[0]['runs']} runs\n"
                 f"(diagonal, grey: an entity on itself, up to {np.diag(M).max():.4g})", fontsize=10)
    ax.set_xlabel("f: entity whose deployment loss changes")
    ax.set_ylabel("e: entity whose training data acts")
    write_png(fig, path)


def plot_flows(rows, path):
    """Mean inflow against mean outflow per entity, marker area ~ individuals."""
    plt = pyplot()
    E = len(rows)
    fig, ax = plt.subplots(figsize=(6.5, 6))
    x = np.array([r["mean_inflow"] for r in rows])
    y = np.array([r["mean_outflow"] for r in rows])
    sizes = np.array([r["individuals"] for r in rows], float)
    ax.scatter(x, y, s=20 + 300 * sizes / sizes.max(), alpha=0.6, label="entity (area ~ individuals)")
    if E <= 40:
        for r, xi, yi in zip(rows, x, y):
            ax.annotate(r["entity"], (xi, yi), fontsize=7)
    lo = float(min(x.min(), y.min())) if (x > 0).all() and (y > 0).all() else float(min(x.min(), y.min(), 0))
    hi = float(max(x.max(), y.max()))
    ax.plot([lo, hi], [lo, hi], color="red", lw=1, label="y = x (gives as much as it gets)")
    if (x > 0).all() and (y > 0).all():  # the small entities are spread out on log axes
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel("mean inflow (what the entity gets)")
    ax.set_ylabel("mean outflow (what the entity gives)")
    ax.set_title("entity inflow vs outflow", fontsize=10)
    ax.legend(fontsize=8)
    write_png(fig, path)


def main(argv):
    p = files_parser("entities", __doc__.split("\n\n", 1)[0], "FILE.h5", "results files written with --entities",
                     "directory for <label>_entities.csv and figures", out_required=True)
    p.add_argument("--no-plots", action="store_true", help="write the tables only")
    args = p.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    for path in args.files:
        try:
            _, notes, rows = entity_report(path, os.path.splitext(os.path.basename(path))[0], args.out,
                                           plots=not args.no_plots)
        except rr.NotResults as e:
            print(f"entities: {e}", file=sys.stderr)
            return 2
        if not rows:
            print(f"entities: {path}: " + (notes[0] if notes else "no entity flows (written without --entities)"),
                  file=sys.stderr)
            return 2
        print(f"{path}: {len(rows)} entities, {rows[0]['runs']} runs")
        print(f"{'entity':<20} {'individuals':>11} {'mean inflow':>12} {'mean outflow':>12} {'reciprocity':>11}")
        for r in rows:
            print(f"{r['entity']:<20} {r['individuals']:>11} {r['mean_inflow']:>12.4g} {r['mean_outflow']:>12.4g} "
                  f"{r['reciprocity']:>11.3f}")
    return 0
