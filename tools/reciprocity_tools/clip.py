"""Reciprocity against the clipping norm (DP-SGD: --clip C, --noise-multiplier sigma).

Reads results files written with different --clip / --noise-multiplier values (and, for the
baseline, without them), groups them by data set and prints, per file: C, sigma, the complete
runs, alpha at the file's beta (single run: mean and sd over the runs; in expectation: on the
mean flows), the correlation of inflow and outflow (the same two ways) and the model's quality
(deployment RMSE, classification accuracy), all read from the file's /summary and /runs (the
engine's one implementation of every metric). With --out DIR it writes clip.csv and clip.png
(one row of panels per data set: alpha and correlation against C, the model quality against C;
"none" is the unclipped run, noised runs are drawn as separate markers).

  tools/clip results/regime_clip_*.h5 --out results/regime_clip
"""
import csv
import math
import os
import sys

import numpy as np

from . import results as rr
from .cli import files_parser
from .style import pyplot, write_png


def read_point(path):
    """One file's point: a dict of its configuration and summary figures."""
    with rr.open_results(path) as f:
        used = f.values("runs/complete").astype(bool).ravel()
        if not used.any():
            raise ValueError("no complete run")
        cfg = f.config

        def scalar(name):
            return float(np.ravel(f.values("summary/" + name))[0])

        single_alpha = np.ravel(f.values("summary/single_run_alpha"))
        single_corr = np.ravel(f.values("summary/single_run_correlation"))
        rmse = np.ravel(f.values("runs/deploy_rmse"))[used]
        acc = np.ravel(f.values("runs/deploy_accuracy"))[used]
        return {
            "file": path,
            "dataset": str(cfg["dataset"]),
            "clip": float(cfg["clip"]),
            "noise": float(cfg["noise-multiplier"]),
            "runs": int(used.sum()),
            "beta": scalar("beta"),
            "alpha_single": float(np.mean(single_alpha)),
            "alpha_single_sd": float(np.std(single_alpha, ddof=1)) if single_alpha.size > 1 else math.nan,
            "alpha_expected": scalar("alpha"),
            "corr_single": float(np.mean(single_corr)),
            "corr_single_sd": float(np.std(single_corr, ddof=1)) if single_corr.size > 1 else math.nan,
            "corr_expected": scalar("correlation"),
            "rmse": float(np.mean(rmse)),
            "rmse_sd": float(np.std(rmse, ddof=1)) if rmse.size > 1 else math.nan,
            "accuracy": float(np.mean(acc)) if np.isfinite(acc).all() else math.nan,
        }


COLUMNS = ["dataset", "clip", "noise", "runs", "beta", "alpha_single", "alpha_single_sd", "alpha_expected",
           "corr_single", "corr_single_sd", "corr_expected", "rmse", "rmse_sd", "accuracy", "file"]


def order(points):
    """By data set, then unclipped first, then C falling, noised runs after the clean ones."""
    return sorted(points, key=lambda p: (p["dataset"], p["noise"] > 0, p["clip"] != 0, -p["clip"]))


def write_csv(points, outdir):
    """clip.csv in `outdir`: one row per file, the COLUMNS."""
    with open(os.path.join(outdir, "clip.csv"), "w", newline="") as out:
        w = csv.writer(out)
        w.writerow(COLUMNS)
        for q in points:
            w.writerow([q[c] for c in COLUMNS])


def plot(points, outdir):
    plt = pyplot()
    sets = sorted({p["dataset"] for p in points})
    fig, axes = plt.subplots(len(sets), 2, figsize=(10, 3.4 * len(sets)), squeeze=False)
    for row, name in enumerate(sets):
        pts = [p for p in points if p["dataset"] == name]
        clipped = sorted({p["clip"] for p in pts if p["clip"] > 0})
        if not clipped:
            continue
        none_x = max(clipped) * 3  # the unclipped run, drawn right of every C
        x_of = lambda p: p["clip"] if p["clip"] > 0 else none_x  # noqa: E731
        clean = sorted((p for p in pts if p["noise"] == 0), key=x_of)
        noisy = [p for p in pts if p["noise"] > 0]
        ax, aq = axes[row]
        for key, sd, label, marker in (("alpha_single", "alpha_single_sd", "alpha(beta), single run", "o"),
                                       ("corr_single", "corr_single_sd", "correlation, single run", "s")):
            line = ax.errorbar([x_of(p) for p in clean], [p[key] for p in clean],
                               yerr=[0 if math.isnan(p[sd]) else p[sd] for p in clean],
                               marker=marker, capsize=3, label=label)
            ax.plot([x_of(p) for p in clean], [p[key.replace("single", "expected")] for p in clean], ls=":",
                    marker=marker, mfc="none", color=line[0].get_color(), label=label.replace("single run", "expected"))
            for p in noisy:
                ax.plot([x_of(p)], [p[key]], marker="*", ms=12, color=line[0].get_color(), ls="none",
                        label=f"{label.split(',')[0]}, noise sigma {p['noise']:g}")
        q = "accuracy" if not math.isnan(clean[0]["accuracy"]) else "rmse"
        aq.plot([x_of(p) for p in clean], [p[q] for p in clean], marker="o", label=q)
        for p in noisy:
            aq.plot([x_of(p)], [p[q]], marker="*", ms=12, ls="none", label=f"{q}, noise sigma {p['noise']:g}")
        for a in (ax, aq):
            a.set_xscale("log")
            ticks = clipped + [none_x]
            a.set_xticks(ticks)
            a.set_xticklabels([f"{c:g}" for c in clipped] + ["none"])
            a.minorticks_off()
            a.set_xlabel("clipping norm C")
            a.grid(True, alpha=0.3)
            a.legend(fontsize=7)
        ax.set_title(f"{name}: reciprocity against C (beta {clean[0]['beta']:g})", fontsize=10)
        aq.set_title(f"{name}: deployment {q} against C", fontsize=10)
    write_png(fig, os.path.join(outdir, "clip.png"))


def main(argv):
    args = files_parser("clip", __doc__.split("\n\n", 1)[1], "FILE.h5", "results files (any --clip, --noise-multiplier)",
                        "write clip.csv and clip.png into DIR").parse_args(argv)
    points = []
    for path in args.files:
        try:
            points.append(read_point(path))
        except Exception as e:  # noqa: BLE001 - any reading error is the file's
            print(f"clip: {path}: cannot read the summary: {e}", file=sys.stderr)
            return 2
    points = order(points)
    print(f"{'dataset':<16} {'C':>7} {'sigma':>5} {'runs':>5} {'alpha single (sd)':>18} {'expected':>8} "
          f"{'corr single (sd)':>17} {'expected':>8} {'RMSE (sd)':>16} {'accuracy':>8}")
    for q in points:
        c_text = "none" if q["clip"] == 0 else f"{q['clip']:g}"
        print(f"{q['dataset']:<16} {c_text:>7} "
              f"{q['noise']:>5g} {q['runs']:>5} {q['alpha_single']:>9.3f} ({q['alpha_single_sd']:.3f}) "
              f"{q['alpha_expected']:>8.3f} {q['corr_single']:>8.3f} ({q['corr_single_sd']:.3f}) "
              f"{q['corr_expected']:>8.3f} {q['rmse']:>8.3f} ({q['rmse_sd']:.3f}) {q['accuracy']:>8.3f}")
    if not args.out:
        return 0
    os.makedirs(args.out, exist_ok=True)
    write_csv(points, args.out)
    plot(points, args.out)
    print(f"\nwrote {os.path.join(args.out, 'clip.csv')} and clip.png")
    return 0
