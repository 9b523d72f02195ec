"""The report's figures of one results file (tools/README.md, "The figures"): inflow against
outflow, SNR, discrepancy, reciprocity histograms, per-individual spread; the figures of the
regimes (entities, arrival, kNN, gap, clipping) from their modules; the contact sheet.
"""

import math
import os
import warnings

import numpy as np

from . import arrival, clip, entities, gap, knn, metrics
from .style import file_title, flow_label, pyplot, save, symlog_threshold

SPREAD_INDIVIDUALS = 5        # the spread figure shows this many individuals
SPREAD_MIN_SEEDS = 5          # and needs this many seeds on one split


def plot_scatter(st, path):
    """Inflow vs outflow of the per-individual means on symlog axes, with y = x."""
    fig, ax = pyplot().subplots(figsize=(6, 6))
    x, y = st.mean_inflow, st.mean_outflow
    lin = symlog_threshold(np.concatenate([x, y]))
    r = st.reciprocity                          # the engine's, of the mean flows
    ax.set_xscale("symlog", linthresh=lin)
    ax.set_yscale("symlog", linthresh=lin)
    pts = ax.scatter(x, y, c=r, cmap="viridis", vmin=0, vmax=1, s=10, alpha=0.8,
                     label=f"individual (mean over {len(st.runs)} runs)")
    lo, hi = float(min(x.min(), y.min())), float(max(x.max(), y.max()))
    ax.plot([lo, hi], [lo, hi], color="red", lw=1, label="y = x (reciprocal)")
    ax.axvspan(-lin, lin, color="grey", alpha=0.1, lw=0, label=f"linear range |v| < {lin:.2g}")
    fig.colorbar(pts, ax=ax, shrink=0.8, label="reciprocity r_i of the means")
    e = st.expectation
    save(fig, ax, path, f"{file_title(st.res)}: {st.title} inflow vs outflow (in expectation)\n"
         f"correlation {e['correlation']:.4f}, alpha at beta {st.res.beta:.2f} = {e['alpha']:.4f}",
         flow_label(st.res, f"mean {st.title} inflow I_i"), flow_label(st.res, f"mean {st.title} outflow O_i"))


def plot_snr(stats, path):
    """ECDF of the per-individual SNR of inflow and outflow, for each flow kind present: the
    conditional SNR where individuals are split (with the all-runs SNR as faint extra lines)."""
    res = stats[0].res
    fig, ax = pyplot().subplots(figsize=(7, 5))
    styles = {"tracin": "-", "marginal": "--"}
    name = "conditional SNR" if res.snr_conditional else "SNR"
    for st in stats:
        series = [("inflow", st.snr_inflow, "tab:blue", name, 1.0),
                  ("outflow", st.snr_outflow, "tab:orange", name, 1.0)]
        if res.snr_conditional:
            series += [("inflow", st.snr_inflow_all_runs, "tab:blue", "all-runs SNR (extra)", 0.35),
                       ("outflow", st.snr_outflow_all_runs, "tab:orange", "all-runs SNR (extra)", 0.35)]
        for side, snr, color, what, alpha in series:
            v = np.sort(snr[np.isfinite(snr)])
            if not len(v):
                continue
            ecdf = np.arange(1, len(v) + 1) / len(v)
            if np.any(v > 0):                # SNR 0 cannot be drawn on the log axis but counts in the ECDF
                ax.step(v[v > 0], ecdf[v > 0], where="post", ls=styles[st.kind], color=color, alpha=alpha,
                        label=f"{st.title} {side} {what} (median {np.median(v):.2f}, {np.mean(v > 1):.0%} > 1, "
                              f"{len(v)} individuals)")
    ax.axvline(1, color="grey", lw=0.8, ls=":", label="SNR = 1")
    ax.set_xscale("log")
    ax.set_ylim(0, 1)
    kinds = " vs ".join(st.title for st in stats)
    if res.snr_conditional:
        title = (f"{file_title(res)}: conditional SNR of individual flows ({kinds})\n"
                 "inflow over the runs where deployed, outflow over the runs where trained")
        xlabel = "conditional SNR = |mean| / sd over the runs in the set (log)"
    else:
        title = f"{file_title(res)}: SNR of individual flows across {len(stats[0].runs)} runs ({kinds})"
        xlabel = "SNR = |mean| / sd across runs (log)"
    save(fig, ax, path, title, xlabel, "fraction of individuals with SNR <= x (of those defined)")


def plot_discrepancy(res, path):
    """Median and 10-90% band across complete runs of |first-order discrepancy| against step."""
    d = np.abs(res.discrepancy[res.complete])           # [runs, steps]
    steps = np.arange(d.shape[1])
    # With --flow-interval N > 1 only the checkpoints (every N-th step) have a discrepancy:
    # plot those, so that the line joins them.
    keep = np.isfinite(d).any(axis=0)
    if keep.any():
        steps, d = steps[keep], d[:, keep]
    fig, ax = pyplot().subplots(figsize=(7, 4.5))
    with warnings.catch_warnings():      # steps where no run has a finite |d| stay empty
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, med, hi = np.nanpercentile(np.where(d > 0, d, np.nan), [10, 50, 90], axis=0)
    ax.fill_between(steps, lo, hi, color="tab:blue", alpha=0.25, lw=0, label="10-90% of runs")
    ax.plot(steps, med, color="tab:blue", lw=1.2, label=f"median over {d.shape[0]} runs")
    p80 = metrics.percentile(d, 80)
    if math.isfinite(p80) and p80 > 0:
        ax.axhline(p80, color="red", ls="--", lw=0.8, label=f"80th percentile over all steps: {p80:.3g}")
    ax.set_yscale("log")
    save(fig, ax, path, f"{file_title(res)}: first-order discrepancy per step\n"
         "(TracIn sum over the step - actual deployment loss decrease) / decrease",
         "step t", "|first-order discrepancy| (log)")


def plot_reciprocity(st, path):
    """Histograms of r_i for the means and, where it means something, for the first run used, with
    alpha marked. Where individuals are split (health, csv) each has only an inflow or only an
    outflow in a run, so a single run's r_i is 0 for everyone by construction: not drawn, said so."""
    fig, ax = pyplot().subplots(figsize=(7, 4.5))
    bins = np.linspace(0, 1, 41)
    split, seed = st.runs[0]
    series = [(f"in expectation (mean flows over {len(st.runs)} runs)", st.reciprocity,
               "tab:blue", st.expectation["alpha"])]
    if not st.res.snr_conditional:
        series.append((f"single run (split {split}, seed {seed})", metrics.reciprocity(st.inflow[0], st.outflow[0]),
                       "tab:orange", st.single[0]["alpha"]))
    for name, r, color, alpha in series:
        ax.hist(r, bins=bins, histtype="step", lw=1.5, color=color, label=f"{name}: mean r {np.mean(r):.3f}")
        ax.axvline(alpha, color=color, ls="--", lw=1, label=f"{name}: alpha at beta {st.res.beta:.2f} = {alpha:.4f}")
    note = ("\n(single runs not drawn: an individual trains or is deployed in a run, never both, so its "
            "single-run r_i is 0)" if st.res.snr_conditional else "")
    save(fig, ax, path, f"{file_title(st.res)}: {st.title} reciprocity r_i = min(|I|,|O|) / max(|I|,|O|) "
         f"(0 if signs differ){note}", "reciprocity r_i", "individuals")


def plot_spread(st, split, path):
    """Box and strip plot over the seeds of one split (at least SPREAD_MIN_SEEDS) of the top
    individuals' flows, each divided by the run's total inflow."""
    rows = [k for k, (s, _) in enumerate(st.runs) if s == split]
    top = np.argsort(-np.abs(st.mean_inflow))[:SPREAD_INDIVIDUALS]
    fig, ax = pyplot().subplots(figsize=(8, 4.5))
    width = 0.35
    for offset, side, values, color in ((-0.2, "inflow", st.inflow, "tab:blue"),
                                        (0.2, "outflow", st.outflow, "tab:orange")):
        total = st.inflow[rows].sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = values[rows][:, top] / total              # [seeds, individuals]
        pos = np.arange(len(top)) + offset
        ax.boxplot(share, positions=pos, widths=width, showfliers=False, patch_artist=True,
                   boxprops=dict(facecolor=color, alpha=0.3), medianprops=dict(color=color))
        jitter = np.random.default_rng(0).uniform(-0.08, 0.08, share.shape)
        ax.scatter(pos[None, :] + jitter, share, s=12, color=color, label=f"{side} / the run's total inflow (one point a seed)")
    ax.axhline(0, color="grey", lw=0.6)
    ax.set_xticks(np.arange(len(top)))
    ax.set_xticklabels([str(st.res.ids[i]) for i in top])
    save(fig, ax, path, f"{file_title(st.res)}: {st.title} flows of the {len(top)} individuals with the largest "
         f"mean |inflow|\nacross the {len(rows)} seeds of split {split}",
         "individual id", "share of the run's total inflow (> 0: lowered the loss)", ncol=2)


def spread_split(st, wanted):
    """The split for the spread plot: `wanted` if given, else the first with the most runs used."""
    per_split = {}
    for s, _ in st.runs:
        per_split[s] = per_split.get(s, 0) + 1
    if wanted is not None:
        return wanted if per_split.get(wanted, 0) >= SPREAD_MIN_SEEDS else None
    best = max(per_split.values())
    return min(s for s, n in per_split.items() if n == best) if best >= SPREAD_MIN_SEEDS else None


def make_plots(res, stats, outdir, spread_split_wanted):
    """Write the figures of one file; return ([(name, description)], notes)."""
    figures, notes = [], []

    def out(name, what):
        figures.append((name, what))
        return os.path.join(outdir, name)

    for st in stats:
        plot_scatter(st, out(f"{res.label}_{st.kind}_scatter.png",
                             f"{res.path}: {st.title} mean inflow vs mean outflow per individual (symlog)"))
        plot_reciprocity(st, out(f"{res.label}_{st.kind}_reciprocity.png",
                                 f"{res.path}: {st.title} reciprocity distribution, means and one run"))
        split = spread_split(st, spread_split_wanted)
        if res.seeds == 1:
            notes.append(f"{res.path}: {st.title} per-individual spread across seeds skipped: 1 seed per split")
        elif split is None:
            notes.append(f"{res.path}: {st.title} per-individual spread skipped: no split with {SPREAD_MIN_SEEDS} or "
                         "more seeds used (a spread over fewer seeds says little)"
                         + (f" (--spread-split {spread_split_wanted})" if spread_split_wanted is not None else ""))
        else:
            plot_spread(st, split, out(f"{res.label}_{st.kind}_spread.png",
                                       f"{res.path}: {st.title} flows of the top individuals across the seeds "
                                       f"of split {split}"))
    if stats and len(stats[0].runs) >= 2:
        what = "conditional SNR" if res.snr_conditional else "SNR"
        plot_snr(stats, out(f"{res.label}_snr.png", f"{res.path}: {what} of individual flows across runs ("
                            + " vs ".join(st.title for st in stats) + ")"))
    else:
        notes.append(f"{res.path}: SNR figure skipped: fewer than 2 runs")
    if np.isfinite(res.discrepancy[res.complete]).any():
        plot_discrepancy(res, out(f"{res.label}_discrepancy.png",
                                  f"{res.path}: first-order discrepancy against step, median and 10-90% band"))
    else:
        notes.append(f"{res.path}: discrepancy figure skipped: no step has a first-order discrepancy")
    for part in (entities.entity_report, arrival.arrival_report, knn.knn_figures):  # the files of those regimes
        f, n = part(res.path, res.label, outdir)[:2]
        figures.extend(f)
        notes.extend(n)
    return figures, notes


def gap_figure(results, outdir):
    """gap.png and gap.csv over all the files when one was written with --batches single-pass
    (the theorem's regime, docs/regimes.md): gap.py."""
    if not any(res.attrs.get("config_batches") == "single-pass" for res in results):
        return [], []
    curves = []
    for res in results:
        inflow, outflow, batches = gap.read_flows(res.path)
        if inflow.shape[0] >= 2:
            curves.append((res.path, f"{res.label} (--batches {batches})", gap.gap_curve(inflow, outflow)))
    if not curves:
        return [], ["gap figure skipped: fewer than 2 complete runs"]
    gap.write_outputs(curves, outdir)
    last = [f"{label}: {rows[-1][2]:.4f} at {rows[-1][0]} runs" for _, label, rows in curves]
    return ([("gap.png", "relative gap between mean inflow and mean outflow against the runs averaged "
                         "(reciprocity_tools gap), every file"),
             ("gap.csv", "the same, as a table")],
            ["inflow/outflow gap: " + "; ".join(last)])


def clip_figure(results, outdir):
    """clip.png and clip.csv over all the files when one was written with --clip (DP-SGD, README
    "Regimes beyond the paper"): alpha, correlation and model quality against C (clip.py)."""
    if not any("config_clip" in res.attrs and float(res.attrs["config_clip"]) > 0 for res in results):
        return [], []
    points = clip.order([clip.read_point(res.path) for res in results])
    clip.write_csv(points, outdir)
    clip.plot(points, outdir)
    return ([("clip.png", "alpha and correlation (single run and expected) and the model's quality against the "
                          "clipping norm C, per data set (reciprocity_tools clip), every file"),
             ("clip.csv", "the same, as a table")], [])


def write_gallery(figures, outdir, name="gallery.png", ncols=3):
    """A contact sheet: every figure written into outdir on one page, each under its file name."""
    import matplotlib.image as mpimg
    paths = [os.path.join(outdir, f) for f, _ in figures if f.endswith(".png") and f != name]
    paths = [p for p in paths if os.path.exists(p)]
    if not paths:
        return None
    rows = math.ceil(len(paths) / ncols)
    fig, axes = pyplot().subplots(rows, ncols, figsize=(6 * ncols, 4.6 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, p in zip(axes.ravel(), paths):
        ax.imshow(mpimg.imread(p))
        ax.set_title(os.path.basename(p), fontsize=11)
    fig.tight_layout()
    out = os.path.join(outdir, name)
    fig.savefig(out, dpi=90)
    pyplot().close(fig)
    return name
