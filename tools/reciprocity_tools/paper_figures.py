"""The paper's extra figures (`report --paper DIR`, paper.py): reciprocity against training
length, MovieLens around its preset, the breast-cancer individual with the largest loss.
"""

import glob
import os
import re

import numpy as np

from .paper import hardest_individual, load
from .report_data import flow_stats, load_results
from .style import pyplot


def plot_training_length(d, beta, outdir):
    pairs = [("diabetes", "diabetes_1000", "diabetes"), ("diabetes", "diabetes_long", "diabetes"),
             ("breast_cancer", "breast_cancer_long", "breast cancer"), ("ml100k", "ml100k_long", "MovieLens")]
    present = [(a, b, t) for a, b, t in pairs
               if os.path.exists(os.path.join(d, a + ".h5")) and os.path.exists(os.path.join(d, b + ".h5"))]
    if not present:
        return None
    plt = pyplot()
    fig, axes = plt.subplots(1, len(present), figsize=(4.2 * len(present), 4), squeeze=False)
    for ax, (a, b, title) in zip(axes[0], present):
        for name, color in ((a, "tab:blue"), (b, "tab:red")):
            res = load(d, name, beta)
            st = flow_stats(res, "tracin")
            r = np.sort(st.reciprocity)
            loss = res.deploy_loss_final[res.complete].mean()
            cfg = f"{res.attrs.get('config_steps')} steps, lr {res.attrs.get('config_learning-rate')}"
            ax.step(r, np.arange(1, len(r) + 1) / len(r), where="post", color=color,
                    label=f"{name}: {cfg}\nalpha {st.expectation['alpha']:.2f}, loss {loss:.4g}")
        ax.axhline(1 - beta, color="grey", ls=":", lw=0.8)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("reciprocity r_i of the mean flows")
        ax.legend(fontsize=7, loc="upper left")
    axes[0][0].set_ylabel("fraction of individuals with r_i <= x")
    fig.suptitle(f"Training length: the presets against longer training (dotted: 1 - beta = {1 - beta:g}; "
                 "alpha is where a curve crosses it)", fontsize=10)
    fig.tight_layout()
    path = os.path.join(outdir, "paper_training_length.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_sensitivity(d, beta, outdir):
    grid = {}
    for path in glob.glob(os.path.join(d, "ml100k_s*_i*.h5")):
        m = re.match(r"ml100k_s(\d+)_i([0-9.e-]+)\.h5$", os.path.basename(path))
        if not m:
            continue
        res = load_results(path, os.path.basename(path)[:-3], completed_only=True, beta=beta)
        st = flow_stats(res, "tracin")
        grid[(int(m.group(1)), float(m.group(2)))] = (
            st.expectation["alpha"], np.mean([f["negative_outflow"] for f in st.single]),
            np.mean([f["negative_inflow"] for f in st.single]), res.deploy_rmse[res.complete].mean())
    if not grid:
        return None, []
    steps = sorted({s for s, _ in grid})
    inits = sorted({i for _, i in grid})
    plt = pyplot()
    fig, axes = plt.subplots(1, 4, figsize=(17, 3.8))
    names = ("alpha at beta (expectation)", "negative outflows (single run)", "negative inflows (single run)",
             "deployment RMSE")
    table = []
    for k, (ax, name) in enumerate(zip(axes, names)):
        Z = np.full((len(inits), len(steps)), np.nan)
        for (s, i), v in grid.items():
            Z[inits.index(i), steps.index(s)] = v[k]
        im = ax.imshow(Z, cmap="viridis", aspect="auto", origin="lower")
        for a in range(len(inits)):
            for b in range(len(steps)):
                ax.text(b, a, "" if np.isnan(Z[a, b]) else (f"{Z[a, b]:.3f}" if k == 3 else f"{Z[a, b]:.2f}"),
                        ha="center", va="center", color="w", fontsize=8)
        ax.set_xticks(range(len(steps)))
        ax.set_xticklabels(steps)
        ax.set_yticks(range(len(inits)))
        ax.set_yticklabels(inits)
        ax.set_xlabel("steps")
        ax.set_title(name, fontsize=10)
        fig.colorbar(im, ax=ax)
    axes[0].set_ylabel("initial embedding scale")
    fig.suptitle("MovieLens around the preset (1198 steps, init 0.003; 2 splits x 2 seeds per cell)", fontsize=10)
    fig.tight_layout()
    path = os.path.join(outdir, "paper_sensitivity.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    for (s, i), v in sorted(grid.items()):
        table.append((s, i) + v)
    return path, table


def plot_hardest(d, beta, outdir):
    hard = hardest_individual(d, beta)
    if hard is None:
        return None
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, key, name in ((axes[0], "cin", "mean inflow (runs where deployed)"),
                          (axes[1], "cout", "mean outflow (runs where trained)")):
        ax.scatter(hard["mean_loss"], hard[key], s=8, alpha=0.6)
        ax.scatter([hard["loss"]], [hard[key][hard["index"]]], s=60, color="red",
                   label=f"id {hard['id']}: loss {hard['loss']:.2f} ({hard['ratio']:.1f}x the next)")
        ax.set_xscale("log")
        ax.set_yscale("symlog", linthresh=max(1e-6, np.nanpercentile(np.abs(hard[key]), 50)))
        ax.set_xlabel("mean deployment loss of the individual (log)")
        ax.set_ylabel(name + " (symlog)")
        ax.legend(fontsize=8)
    fig.suptitle("Breast cancer (TracIn): the individual with the largest mean deployment loss", fontsize=10)
    fig.tight_layout()
    path = os.path.join(outdir, "paper_hardest.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
