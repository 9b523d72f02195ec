"""The inflow/outflow gap of results files against the number of runs (docs/method.md section 9).

`python3 -m reciprocity_tools gap` (tools/gap) is its command line; the report draws the same
figure (gap.png) when a file was written with --batches single-pass.

The theorem of the paper: E[inflow_i] = E[outflow_i] when training and deployment examples are
IID and each step's batch is fresh (never trained on before), the expectation being over splits,
batches and initialisations. Averaged over R runs, the per-individual mean flows then differ only
by noise, and their gap falls like 1/sqrt(R); under full-batch gradient descent, which revisits
every example, it levels off at the gap of the expectations. For each file and each R (1, 2, 4, ...)
the complete runs are cut, in run order, into floor(runs / R) disjoint blocks of R runs, and each
block gives one relative gap

    gap = sum_i |mean_R I_i - mean_R O_i| / sum_i (|mean_R I_i| + |mean_R O_i|) / 2

(TracIn flows; 0 means every individual's mean inflow equals its mean outflow). Printed and written:
the mean and sample sd over the blocks (the sd needs 2 blocks or more).

Output (--out DIR): gap.csv (file, label, R, blocks, mean gap, sd) and gap.png (gap against R on
log-log axes, one curve per file, error bars = sd over blocks, with the 1/sqrt(R) slope drawn from
the first point of each curve for reference).

Runs must be independent draws for the curve to mean what it says: use many splits and one seed
per split (--splits 256 --seeds 1), not many seeds of few splits (runs of one split share it).

Example (jobs/independent_batches.sh):
  reciprocity --dataset synthetic --steps 300 --learning-rate 3 --splits 256 --seeds 1 --out full.h5
  reciprocity --dataset synthetic --steps 300 --learning-rate 3 --splits 256 --seeds 1 \\
      --batches single-pass --out single.h5
  tools/gap full.h5=full-batch single.h5=single-pass --out gap/

Exit status: 0 on success, 2 when a file cannot be read or has fewer than 2 complete runs.
"""

import csv
import math
import os
import sys

import numpy as np

from . import results as rr
from .cli import files_parser
from .style import pyplot, write_png


def relative_gap(inflow, outflow):
    """gap of the per-individual means of `inflow`, `outflow` [runs, N] (NaN when all flows are 0)."""
    mi, mo = inflow.mean(axis=0), outflow.mean(axis=0)
    scale = (np.abs(mi) + np.abs(mo)).sum() / 2
    return float(np.abs(mi - mo).sum() / scale) if scale > 0 else math.nan


def gap_curve(inflow, outflow):
    """[(R, blocks, mean gap, sd)] for R = 1, 2, 4, ... <= runs, over disjoint blocks in run order."""
    runs = inflow.shape[0]
    rows, R = [], 1
    while R <= runs:
        blocks = runs // R
        g = [relative_gap(inflow[b * R:(b + 1) * R], outflow[b * R:(b + 1) * R]) for b in range(blocks)]
        rows.append((R, blocks, float(np.mean(g)), float(np.std(g, ddof=1)) if blocks > 1 else math.nan))
        R *= 2
    return rows


def read_flows(path):
    """TracIn inflow and outflow [complete runs, N] of a results file, in (split, seed) order."""
    with rr.open_results(path) as f:
        used = f.values("runs/complete").astype(bool).ravel()
        n = f.values("individuals/id").shape[0]
        inflow = f.values("flows/tracin/inflow").reshape(-1, n)[used]
        outflow = f.values("flows/tracin/outflow").reshape(-1, n)[used]
        batches = f.config["batches"]
    return inflow, outflow, batches


def write_outputs(curves, outdir):
    """gap.csv and gap.png in `outdir` for `curves` [(path, label, gap_curve rows)]."""
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "gap.csv"), "w", newline="") as out:
        w = csv.writer(out)
        w.writerow(["file", "label", "runs_R", "blocks", "gap_mean", "gap_sd"])
        for path, label, rows in curves:
            for R, blocks, g, sd in rows:
                w.writerow([path, label, R, blocks, g, sd])
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    for k, (path, label, rows) in enumerate(curves):
        R = [r[0] for r in rows]
        g = [r[2] for r in rows]
        sd = [0 if math.isnan(r[3]) else r[3] for r in rows]
        line = ax.errorbar(R, g, yerr=sd, marker="os^v"[k % 4], capsize=3, label=label)
        ax.plot(R, [g[0] / math.sqrt(r) for r in R], ls=":", lw=1, color=line[0].get_color())
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("runs R averaged (disjoint blocks)")
    ax.set_ylabel("relative gap, mean inflow vs mean outflow")
    ax.set_title("inflow/outflow gap against runs (dotted: 1/sqrt(R))", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    write_png(fig, os.path.join(outdir, "gap.png"))


def main(argv):
    args = files_parser("gap", __doc__.split("\n\n", 1)[1], "FILE.h5[=LABEL]", "results files (label: the curve's name)",
                        "write gap.csv and gap.png into DIR").parse_args(argv)
    curves = []
    for spec in args.files:
        path, _, label = spec.partition("=")
        try:
            inflow, outflow, batches = read_flows(path)
        except Exception as e:  # noqa: BLE001 - any reading error is the file's
            print(f"gap: {path}: cannot read TracIn flows: {e}", file=sys.stderr)
            return 2
        if inflow.shape[0] < 2:
            print(f"gap: {path}: {inflow.shape[0]} complete run(s); the curve needs at least 2", file=sys.stderr)
            return 2
        curves.append((path, label or f"{os.path.basename(path)} (--batches {batches})", gap_curve(inflow, outflow)))
    print("relative gap between mean inflow and mean outflow (mean, sd over disjoint blocks of R runs)")
    for path, label, rows in curves:
        print(f"\n{label}: {path}")
        print(f"{'R':>6} {'blocks':>7} {'gap':>9} {'sd':>9}")
        for R, blocks, g, sd in rows:
            print(f"{R:>6} {blocks:>7} {g:>9.4f} {sd:>9.4f}")
    if not args.out:
        return 0
    write_outputs(curves, args.out)
    print(f"\nwritten: {os.path.join(args.out, 'gap.csv')}, {os.path.join(args.out, 'gap.png')}")
    return 0
