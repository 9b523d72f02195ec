"""The paper's numbers beside ours: `report --paper DIR` (DIR as written by tools/reproduce).

Reads the results files of tools/reproduce by name (ml100k.h5, ml100k_90.h5, ml100k_marginal.h5,
ml100k_long.h5, ml100k_s<steps>_i<init>.h5, diabetes.h5, diabetes_1000.h5, breast_cancer.h5, ...),
computes every number "Reciprocity in Machine Learning" reports (docs/results.md) from the
engine's figures the report reads (report_data.py) and, for the figures of per-split means, the
one Python implementation of the metrics (metrics.py, held equal to the engine's by the tests),
and writes

  paper_vs_ours.md, paper_vs_ours.csv
      one row per reported number: what it is, the paper's value, ours (mean and sd where it
      varies over runs), the tolerance we hold ourselves to, and the verdict (reproduced / not
      reproduced / no paper value / missing: the file is absent);
  paper_training_length.png   reciprocity and deployment loss, presets vs longer training
  paper_sensitivity.png       MovieLens alpha and negative outflows over steps x initial scale
  paper_hardest.png           breast cancer: mean deployment loss vs mean flows, the hardest
                              individual marked

Missing files are reported as "missing" rows, never silently skipped.
"""

import csv
import os

import numpy as np

from . import metrics
from . import results as rr
from .report_data import flow_stats, load_results

REPRODUCED, NOT_REPRODUCED, NO_VALUE, MISSING = "reproduced", "NOT reproduced", "no paper value", "missing"


class Row:
    """One number of the paper and ours."""

    def __init__(self, experiment, what, paper, ours, tolerance, verdict, note=""):
        self.experiment, self.what, self.paper, self.ours = experiment, what, paper, ours
        self.tolerance, self.verdict, self.note = tolerance, verdict, note


def pct(x):
    return "nan" if x is None or not np.isfinite(x) else f"{100 * x:.1f}%"


def mean_sd(values, fmt=pct):
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not len(v):
        return "nan"
    return f"{fmt(v.mean())} (sd {fmt(v.std(ddof=1)) if len(v) > 1 else '-'}, {len(v)} runs)"


def noise_snr_p90(runs, draws=200000):
    """90th percentile of the sample SNR |mean| / sd (ddof 1) of `runs` independent normal values of
    mean 0: what an individual whose flow is pure noise shows (fixed seed: the same every time)."""
    x = np.random.default_rng(12345).standard_normal((draws, runs))
    return float(np.percentile(np.abs(x.mean(axis=1)) / x.std(axis=1, ddof=1), 90))


def verdict(ok):
    return REPRODUCED if ok else NOT_REPRODUCED


def load(directory, name, beta):
    """Results of directory/name.h5 with the report's loader, or None when absent."""
    path = os.path.join(directory, name + ".h5")
    if not os.path.exists(path):
        return None
    return load_results(path, name, completed_only=True, beta=beta)


def split_means(st):
    """Figures of the per-split flows averaged over the split's seeds ("single split", the paper's
    reading): a list of flow_figures, one per split with at least one run."""
    out = []
    splits = sorted({s for s, _ in st.runs})
    for s in splits:
        rows = [k for k, (sp, _) in enumerate(st.runs) if sp == s]
        out.append(metrics.flow_figures(st.inflow[rows].mean(axis=0), st.outflow[rows].mean(axis=0), st.res.beta))
    return out


def individual_losses(directory, name):
    """[S, R, N] per-individual deployment losses of a file (None when the file predates them)."""
    with rr.open_results(os.path.join(directory, name + ".h5"), verify=False) as f:
        return f.values("runs/individual_deploy_loss") if "runs/individual_deploy_loss" in f else None


def marginal_step(res):
    """The file's --marginal-step (files before the option: the one they used, from the program)."""
    with rr.open_results(res.path, verify=False) as f:
        return f.config["marginal-step"]


def movielens_rows(d, beta, rows):
    ml = load(d, "ml100k", beta)
    ex = "MovieLens 100K"
    if ml is None:
        rows.append(Row(ex, "every MovieLens figure", "", "ml100k.h5 absent", "", MISSING))
        return
    st = flow_stats(ml, "tracin")
    used = ml.complete.ravel()
    rmse = ml.deploy_rmse.ravel()[used]
    rows.append(Row(ex, "deployment RMSE, 80:20", "lost", mean_sd(rmse, lambda x: f"{x:.4f}"), "", NO_VALUE))
    ml90 = load(d, "ml100k_90", beta)
    if ml90 is None:
        rows.append(Row(ex, "RMSE on a 90:10 split, same hyperparameters", "0.910", "ml100k_90.h5 absent", "", MISSING))
    else:
        r90 = ml90.deploy_rmse.ravel()[ml90.complete.ravel()]
        rows.append(Row(ex, "RMSE on a 90:10 split, same hyperparameters", "0.910",
                        mean_sd(r90, lambda x: f"{x:.4f}"), "within 0.010", verdict(abs(r90.mean() - 0.910) <= 0.010)))
    disc = np.abs(ml.discrepancy[ml.complete])
    p80_all = metrics.percentile(disc, 80)
    p80_runs = [metrics.percentile(np.abs(ml.discrepancy[s, r]), 80) for s, r in st.runs]
    rows.append(Row(ex, "first-order discrepancy, 80th percentile over the steps of a run", "1.1%",
                    f"{pct(p80_all)} over all runs' steps; per run {mean_sd(p80_runs)}", "at most 1.1% x 1.25",
                    verdict(p80_all <= 0.011 * 1.25)))
    single = st.single
    neg_in = [f["negative_inflow"] for f in single]
    neg_out = [f["negative_outflow"] for f in single]
    rows.append(Row(ex, "single run: users with a negative inflow", "0.5%", mean_sd(neg_in), "at most 1%",
                    verdict(np.mean(neg_in) <= 0.01)))
    rows.append(Row(ex, "single run: users with a negative outflow", "16.9%", mean_sd(neg_out), "12% to 22%",
                    verdict(0.12 <= np.mean(neg_out) <= 0.22)))
    per_split = split_means(st)
    sp_in = [f["negative_inflow"] for f in per_split]
    sp_out = [f["negative_outflow"] for f in per_split]
    rows.append(Row(ex, "single split (mean over its seeds): negative inflows", "0.5%",
                    mean_sd(sp_in).replace("runs", "splits"), "at most 1%", verdict(np.mean(sp_in) <= 0.01)))
    rows.append(Row(ex, "single split (mean over its seeds): negative outflows", "16.9%",
                    mean_sd(sp_out).replace("runs", "splits"), "12% to 22%", verdict(0.12 <= np.mean(sp_out) <= 0.22)))
    sp_alpha = [f["alpha"] for f in per_split]
    sp_corr = [f["correlation"] for f in per_split]
    one_alpha = [f["alpha"] for f in single]
    one_corr = [f["correlation"] for f in single]
    num = lambda x: f"{x:.3f}"
    rows.append(Row(ex, f"single split: alpha at beta = {beta:g}", "lost",
                    mean_sd(sp_alpha, num).replace("runs", "splits") + f"; single run {mean_sd(one_alpha, num)}",
                    "", NO_VALUE))
    rows.append(Row(ex, "single split: correlation(I, O)", "lost",
                    mean_sd(sp_corr, num).replace("runs", "splits") + f"; single run {mean_sd(one_corr, num)}",
                    "", NO_VALUE))
    e = st.expectation
    n_runs = len(st.runs)
    rows.append(Row(ex, f"in expectation ({n_runs} runs): users with a negative inflow", "0 (every user positive)",
                    f"{int(round(e['negative_inflow'] * len(st.mean_inflow)))} users ({pct(e['negative_inflow'])})",
                    "none", verdict(e["negative_inflow"] == 0)))
    rows.append(Row(ex, f"in expectation ({n_runs} runs): users with a negative outflow", "11.1%",
                    pct(e["negative_outflow"]), "within 4 points", verdict(abs(e["negative_outflow"] - 0.111) <= 0.04)))
    rows.append(Row(ex, f"in expectation: alpha at beta = {beta:g}", "lost (higher than single split)",
                    f"{e['alpha']:.3f}", "above the single-split mean", verdict(e["alpha"] > np.mean(sp_alpha))))
    rows.append(Row(ex, "in expectation: correlation(I, O)", "lost (higher than single split)",
                    f"{e['correlation']:.3f}", "above the single-split mean",
                    verdict(e["correlation"] > np.mean(sp_corr))))
    neg = st.mean_outflow < 0
    if neg.any():
        ratio = np.median(np.abs(st.mean_outflow[neg])) / np.median(np.abs(st.mean_outflow))
        rows.append(Row(ex, "users with a negative mean outflow have small flows", "yes (qualitative)",
                        f"median |O| of those {int(neg.sum())} users = {ratio:.2f} x the median |O| of all users",
                        "below 0.5", verdict(ratio < 0.5)))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.median(st.mean_outflow / st.mean_inflow)
    rows.append(Row(ex, "averaged inflow and outflow of similar size, user by user (figure 2)", "yes (qualitative)",
                    f"median O/I over users {ratio:.2f}", "0.5 to 2", verdict(0.5 <= ratio <= 2)))
    snr_out, snr_in = st.snr_outflow[np.isfinite(st.snr_outflow)], st.snr_inflow[np.isfinite(st.snr_inflow)]
    rows.append(Row(ex, f"TracIn SNR across runs: 90% of users above (outflow / inflow; {n_runs} runs)", "lost",
                    f"{metrics.percentile(snr_out, 10):.2f} / {metrics.percentile(snr_in, 10):.2f}", "", NO_VALUE))
    movielens_marginal_rows(d, beta, rows)


def movielens_marginal_rows(d, beta, rows):
    """MovieLens' Marginal SNR (ml100k_marginal.h5) against the paper's, and against TracIn's."""
    ex = "MovieLens 100K"
    mm = load(d, "ml100k_marginal", beta)
    if mm is None or "marginal" not in mm.flows:
        rows.append(Row(ex, "Marginal SNR, 90th percentile", "0.49", "ml100k_marginal.h5 absent", "", MISSING))
    else:
        ms = flow_stats(mm, "marginal")
        v_out = ms.snr_outflow[np.isfinite(ms.snr_outflow)]
        v_in = ms.snr_inflow[np.isfinite(ms.snr_inflow)]
        k = len(ms.runs)
        rows.append(Row(ex, f"Marginal SNR, 90th percentile (outflow; inflow), over {k} splits (the paper: 10)", "0.49",
                        f"{metrics.percentile(v_out, 90):.2f}; {metrics.percentile(v_in, 90):.2f}", "within 0.15",
                        verdict(abs(metrics.percentile(v_out, 90) - 0.49) <= 0.15),
                        f"flows of mean 0 (pure noise) give a 90th percentile of {noise_snr_p90(k):.2f} over {k} "
                        f"runs and {noise_snr_p90(10):.2f} over 10"))
        rows.append(Row(ex, "Marginal SNR: almost every user below 1 (outflow; inflow)", "yes",
                        f"{np.mean(v_out < 1):.1%}; {np.mean(v_in < 1):.1%} below 1", "at least 90%",
                        verdict(np.mean(v_out < 1) >= 0.9)))
        ts = flow_stats(mm, "tracin")
        t_out = ts.snr_outflow[np.isfinite(ts.snr_outflow)]
        rows.append(Row(ex, "Marginal much noisier than TracIn (median outflow SNR, same runs)", "yes",
                        f"Marginal {np.median(v_out):.2f} vs TracIn {np.median(t_out):.2f}", "Marginal lower",
                        verdict(np.median(v_out) < np.median(t_out))))


def health_rows(d, beta, rows):
    alphas = {}
    for name, title, paper_snr in (("diabetes", "diabetes", 0.55), ("breast_cancer", "breast cancer", 0.58)):
        res = load(d, name, beta)
        if res is None:
            rows.append(Row(title, f"every {title} figure", "", f"{name}.h5 absent", "", MISSING))
            continue
        t = flow_stats(res, "tracin")
        alphas[name] = t.expectation["alpha"]
        rows.append(Row(title, f"TracIn in expectation ({len(t.runs)} splits): alpha at beta = {beta:g}; correlation",
                        "lost (relatively high)", f"{t.expectation['alpha']:.3f}; {t.expectation['correlation']:.3f}",
                        "alpha at least 0.5" if name == "diabetes" else "alpha at least 0.6",
                        verdict(t.expectation["alpha"] >= (0.5 if name == "diabetes" else 0.6))))
        if "marginal" not in res.flows:
            rows.append(Row(title, "Marginal figures", "", "no Marginal flows in the file", "", MISSING))
            continue
        m = flow_stats(res, "marginal")
        cond = [metrics.percentile(s[np.isfinite(s)], 90) for s in (m.snr_outflow, m.snr_inflow)]
        allr = [metrics.percentile(s[np.isfinite(s)], 90) for s in (m.snr_outflow_all_runs, m.snr_inflow_all_runs)]
        rows.append(Row(title, f"Marginal SNR, 90th percentile over {len(m.runs)} splits: all runs, zeros included "
                        "(outflow; inflow)", f"{paper_snr}", f"{allr[0]:.2f}; {allr[1]:.2f}", "within 0.15",
                        verdict(abs(allr[0] - paper_snr) <= 0.15 or abs(allr[1] - paper_snr) <= 0.15),
                        "the paper's reading of SNR is not stated; over all runs an individual's inflow is 0 in the "
                        "~80% of runs where it trains, which bounds this SNR near sqrt(0.2/0.8) = 0.5"))
        rows.append(Row(title, "Marginal SNR, 90th percentile, conditional (outflow over runs where trained; inflow "
                        "over runs where deployed)", "-", f"{cond[0]:.2f}; {cond[1]:.2f}", "", NO_VALUE,
                        "the SNR that measures the flow (docs/method.md section 2)"))
        rows.append(Row(title, f"Marginal in expectation: alpha at beta = {beta:g}; correlation", "lost",
                        f"{m.expectation['alpha']:.3f}; {m.expectation['correlation']:.3f}", "", NO_VALUE,
                        f"--marginal-step {marginal_step(res)}"))
        rows.append(Row(title, "TracIn reciprocity above Marginal reciprocity (alpha, expectation)", "yes",
                        f"TracIn {t.expectation['alpha']:.3f} vs Marginal {m.expectation['alpha']:.3f}",
                        "TracIn higher", verdict(t.expectation["alpha"] > m.expectation["alpha"])))
    # Diabetes trained for 1000 steps.
    base, long = load(d, "diabetes", beta), load(d, "diabetes_1000", beta)
    if base is None or long is None:
        rows.append(Row("diabetes", "1000 steps instead of the preset", "", "diabetes(_1000).h5 absent", "", MISSING))
    else:
        lb = base.deploy_loss_final[base.complete].mean()
        ll = long.deploy_loss_final[long.complete].mean()
        rows.append(Row("diabetes", f"1000 steps instead of {base.steps}: deployment loss", "about 1% higher",
                        f"{100 * (ll / lb - 1):+.2f}% ({lb:.1f} -> {ll:.1f})", "+0.5% to +2%",
                        verdict(0.005 <= ll / lb - 1 <= 0.02)))
        ab = flow_stats(base, "tracin").expectation["alpha"]
        al = flow_stats(long, "tracin").expectation["alpha"]
        rows.append(Row("diabetes", f"1000 steps: 75th percentile of reciprocity (alpha at beta = {beta:g})",
                        "falls (values lost)", f"{ab:.3f} -> {al:.3f}", "lower", verdict(al < ab)))
    # Breast cancer: the individual with the largest mean deployment loss.
    hard = hardest_individual(d, beta)
    if hard is None:
        rows.append(Row("breast cancer", "the hardest individual", "", "breast_cancer.h5 absent or without "
                        "per-individual losses", "", MISSING))
    else:
        ok = hard["ratio"] > 2 and hard["inflow"] < 0 and hard["outflow"] < 0
        rows.append(Row("breast cancer", "one individual: largest mean deployment loss (> 2x the next), very large "
                        "negative inflow and outflow", "yes",
                        f"id {hard['id']}: mean loss {hard['loss']:.2f} = {hard['ratio']:.1f}x the next; mean inflow "
                        f"{hard['inflow']:.3g} (rank {hard['in_rank']} from the most negative), outflow "
                        f"{hard['outflow']:.3g} (rank {hard['out_rank']})", "ratio > 2, both flows negative",
                        verdict(ok)))


def hardest_individual(d, beta):
    res = load(d, "breast_cancer", beta)
    if res is None:
        return None
    L = individual_losses(d, "breast_cancer")
    if L is None or res.deployed is None:
        return None
    st = flow_stats(res, "tracin")
    used = res.complete.ravel()
    Lr = L.reshape(-1, L.shape[2])[used]
    dep = res.deployed.reshape(-1, L.shape[2])[used]          # [runs, N]: where each has deployment examples
    with np.errstate(invalid="ignore"):
        mean_loss = np.where(dep.sum(0) > 0, (Lr * dep).sum(0) / dep.sum(0), np.nan)
    order = np.argsort(-np.nan_to_num(mean_loss, nan=-1))
    i, j = order[0], order[1]
    # Mean flows where they exist (conditional means: inflow over deployed runs, outflow over training runs).
    with np.errstate(invalid="ignore"):
        cin = (st.inflow * dep).sum(0) / dep.sum(0)
        cout = (st.outflow * ~dep).sum(0) / (~dep).sum(0)
    return dict(index=int(i), id=int(res.ids[i]), loss=float(mean_loss[i]), ratio=float(mean_loss[i] / mean_loss[j]),
                inflow=float(cin[i]), outflow=float(cout[i]), mean_loss=mean_loss, cin=cin, cout=cout,
                in_rank=int(np.sum(cin < cin[i])) + 1, out_rank=int(np.sum(cout < cout[i])) + 1)


def write_tables(rows, outdir):
    cols = ("experiment", "what", "paper", "ours", "tolerance", "verdict", "note")
    with open(os.path.join(outdir, "paper_vs_ours.csv"), "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for r in rows:
            w.writerow([getattr(r, c) for c in cols])
    lines = ["| experiment | number | paper | this program | tolerance | verdict |", "|---|---|---|---|---|---|"]
    for r in rows:
        note = f" ({r.note})" if r.note else ""
        lines.append(f"| {r.experiment} | {r.what}{note} | {r.paper} | {r.ours} | {r.tolerance} | {r.verdict} |")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(outdir, "paper_vs_ours.md"), "w") as fh:
        fh.write(text)
    return text


def paper_comparison(directory, outdir, beta, plots=True):
    """Write the paper-vs-ours table (and figures); return (markdown text, figure paths)."""
    from . import paper_figures
    rows = []
    movielens_rows(directory, beta, rows)
    health_rows(directory, beta, rows)
    text = write_tables(rows, outdir)
    figures = []
    if plots:
        for p in (paper_figures.plot_training_length(directory, beta, outdir),
                  paper_figures.plot_sensitivity(directory, beta, outdir)[0],
                  paper_figures.plot_hardest(directory, beta, outdir)):
            if p:
                figures.append(p)
    return text, figures
