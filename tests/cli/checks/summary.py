"""The engine's figures (/summary) against the tools' one Python implementation of the metrics
(reciprocity_tools.metrics) and against the definitions (tests/cli/test_metrics_agree.sh,
test_summary_snr.sh)."""
import json

import h5py
import numpy as np
from reciprocity_tools import metrics, report_data

from common import Claims, same


def alpha_by_definition(r, beta):
    """The largest alpha among the r_i such that r_i >= alpha for at least a fraction beta."""
    r = np.asarray(r)
    return max(a for a in r if np.count_nonzero(r >= a) >= beta * len(r) - 1e-9)


def runs_of(f, kind):
    """[runs used, N] inflow and outflow of a flow kind, as the engine's summary uses them."""
    used = f["runs/complete"][...].astype(bool).ravel()
    if kind == "marginal":
        used &= f["runs/marginal_complete"][...].astype(bool).ravel()
    n = f["individuals/id"].shape[0]
    return (f[f"flows/{kind}/inflow"][...].reshape(-1, n)[used], f[f"flows/{kind}/outflow"][...].reshape(-1, n)[used])


def kind_agrees(claim, f, e, kind, prefix, beta, where):
    """One flow kind of one file: metrics.py and the definition against the engine's /summary."""
    I, O = runs_of(f, kind)
    claim(same(e[prefix + "runs_used"], len(I)), f"{where}: runs used")
    claim(same(e[prefix + "mean_inflow"], metrics.seq_sum(I / len(I))), f"{where}: mean inflow")
    claim(same(e[prefix + "mean_outflow"], metrics.seq_sum(O / len(O))), f"{where}: mean outflow")
    r = metrics.reciprocity(e[prefix + "mean_inflow"], e[prefix + "mean_outflow"])
    claim(same(e[prefix + "reciprocity"], r), f"{where}: reciprocity {e[prefix + 'reciprocity']} vs {r}")
    expect = metrics.flow_figures(e[prefix + "mean_inflow"], e[prefix + "mean_outflow"], beta)
    a = e[prefix + "alpha"][0]
    claim(same(a, expect["alpha"]), f"{where}: alpha engine {a!r} metrics.py {expect['alpha']!r}")
    d = alpha_by_definition(e[prefix + "reciprocity"], beta)
    claim(same(a, d), f"{where}: alpha engine {a!r} definition {d!r}")
    single = [metrics.flow_figures(i, o, beta) for i, o in zip(I, O)]
    for k, (i, o) in enumerate(zip(I, O)):
        d = alpha_by_definition(metrics.reciprocity(i, o), beta)
        claim(same(e[prefix + "single_run_alpha"][k], d), f"{where}: single run {k} alpha vs definition {d}")
    for name, stored in (("alpha", "alpha"), ("correlation", "correlation"),
                         ("negative_inflow", "negative_inflow_fraction"),
                         ("negative_outflow", "negative_outflow_fraction")):
        claim(same(e[prefix + stored], expect[name]), f"{where}: {name} engine {e[prefix + stored]} metrics.py "
              f"{expect[name]}")
        claim(same(e[prefix + "single_run_" + stored], [s[name] for s in single]), f"{where}: single-run {name}")


def metrics_agree(ns, betas):
    """For each n and beta, n<n>_b<beta>.h5 (summarised by the engine at beta): metrics.py's
    reciprocity, alpha at beta, correlation and negative fractions, single runs and in expectation,
    TracIn and Marginal, equal the engine's /summary; alpha equals its definition."""
    claim = Claims(quiet_ok=True)
    for n in map(int, ns.split()):
        for b in betas.split():
            beta, path = float(b), f"n{n}_b{b}.h5"
            with h5py.File(path, "r") as f:
                e = {k: f["summary"][k][...] for k in f["summary"]}
                claim(same(e["beta"], beta), f"{path}: /summary/beta {e['beta']} != {beta}")
                for kind, prefix in (("tracin", ""), ("marginal", "marginal_")):
                    kind_agrees(claim, f, e, kind, prefix, beta, f"{path} {kind}")
    print(f"{claim.total - claim.failed} of {claim.total} checks agree")
    return claim.holds


def other_beta_agrees(ns, betas):
    """The report at a beta other than its file's summary (n<n>_b0.75.h5 read at beta): alpha in
    expectation and of each run, computed by metrics.py, equal the engine's summary at that beta
    (n<n>_b<beta>.h5), and the table's means over runs equal the engine's per-run figures'."""
    claim = Claims(quiet_ok=True)
    for n in map(int, ns.split()):
        for b in betas.split():
            beta, path = float(b), f"n{n}_b{b}.h5"
            res = report_data.load_results(f"n{n}_b0.75.h5", "x", True, beta)
            with h5py.File(path, "r") as f:
                e = {k: f["summary"][k][...] for k in f["summary"]}
            for kind, prefix in (("tracin", ""), ("marginal", "marginal_")):
                st = report_data.flow_stats(res, kind)
                where = f"n{n} at beta {b} {kind}"
                claim(same(st.expectation["alpha"], e[prefix + "alpha"][0]), f"{where}: alpha {st.expectation['alpha']}"
                      f" vs the engine's {e[prefix + 'alpha'][0]}")
                claim(same([s["alpha"] for s in st.single], e[prefix + "single_run_alpha"]), f"{where}: single-run alpha")
                claim(same(metrics.finite_mean([s["correlation"] for s in st.single]),
                           metrics.finite_mean(e[prefix + "single_run_correlation"])), f"{where}: mean correlation")
    print(f"{claim.total - claim.failed} of {claim.total} checks agree")
    return claim.holds


def report_json_matches(report_json, path):
    """The report's summary.json holds the engine's figures of `path` (expectation, both kinds)."""
    rows = {r["flow"]: r for r in json.load(open(report_json))}
    claim = Claims(quiet_ok=True)
    with h5py.File(path, "r") as f:
        s = f["summary"]
        for kind, p in (("tracin", ""), ("marginal", "marginal_")):
            for col, name in (("expectation_alpha", "alpha"), ("expectation_correlation", "correlation"),
                              ("expectation_negative_inflow", "negative_inflow_fraction"),
                              ("expectation_negative_outflow", "negative_outflow_fraction")):
                got, want = rows[kind][col], float(s[p + name][0])
                claim(abs(got - want) <= 1e-12 * max(abs(want), 1e-300), f"{kind} {col}: report {got!r} engine {want!r}")
    return claim.holds


def snr_numpy(values, use):
    """|mean| / sd (ddof 1) of each column over the rows where use; NaN where < 2 rows or sd 0."""
    out = np.full(values.shape[1], np.nan)
    for i in range(values.shape[1]):
        v = values[use[:, i], i]
        if len(v) >= 2 and np.std(v, ddof=1) > 0:
            out[i] = abs(np.mean(v)) / np.std(v, ddof=1)
    return out


def close(a, b):
    return a.shape == b.shape and np.array_equal(np.isnan(a), np.isnan(b)) and \
        np.allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=1e-9, atol=0)


def snr_kind(claim, f, s, path, kind, p, used, trains, split):
    """The SNR arrays of one flow kind against numpy, and the report's columns against them."""
    S, R, N = f["flows/tracin/inflow"].shape
    I = f[f"flows/{kind}/inflow"][...].reshape(-1, N)[used]
    O = f[f"flows/{kind}/outflow"][...].reshape(-1, N)[used]
    t = trains[used]
    deployed = ~t if split else t
    want = {"snr_inflow": snr_numpy(I, deployed), "snr_outflow": snr_numpy(O, t),
            "snr_inflow_all_runs": snr_numpy(I, np.ones_like(t)), "snr_outflow_all_runs": snr_numpy(O, np.ones_like(t))}
    few = {"snr_inflow": deployed.sum(0) < 2, "snr_outflow": t.sum(0) < 2}
    res = report_data.load_results(path, path, False)
    st = report_data.flow_stats(res, kind)
    from reciprocity_tools import tables
    row = tables.table_row(st)
    for name, w in want.items():
        got = s[p + name]
        claim(got.shape == (N,), f"{path} {kind}: /summary/{p}{name} has length N = {N} ({got.shape})")
        claim(close(got, w), f"{path} {kind}: /summary/{p}{name} = numpy |mean|/sd over the runs "
              f"({np.isfinite(got).sum()} defined)")
        claim(close(getattr(st, name), got), f"{path} {kind}: the report's {name} = the engine's")
        v = got[np.isfinite(got)]
        cols = (f"{name}_p50", f"{name}_above_1", f"{name}_individuals")
        claim(np.isclose(row[cols[0]], np.percentile(v, 50), rtol=1e-12) and
              np.isclose(row[cols[1]], np.mean(v > 1), rtol=1e-12) and row[cols[2]] == len(v),
              f"{path} {kind}: report columns {', '.join(cols)}")
        if name in few:
            nan = np.isnan(got)
            sd0 = nan & ~few[name]      # 2 or more runs but sd 0 (a flow that never varies)
            claim(np.array_equal(nan & few[name], few[name]) and not sd0.any(),
                  f"{path} {kind}: {name} NaN exactly where fewer than 2 runs ({few[name].sum()} individuals)")
    claim(row["snr_conditional"] == split, f"{path} {kind}: report column snr_conditional")
    if split and kind == "tracin":   # the test sees both kinds of individual
        claim(few["snr_inflow"].any() and (~few["snr_inflow"]).any(),
              f"{path}: some individuals deployed in fewer than 2 runs, some in more")
    if not split:
        claim(close(s[p + "snr_inflow"], s[p + "snr_inflow_all_runs"]),
              f"{path} {kind}: recommender: conditional SNR = all runs")


def snr_agrees(*paths):
    """The stored SNR arrays of each file against numpy over the runs where each individual is
    deployed (inflow) or trains (outflow), membership from the engine's saved training masks (the
    recommender: every run); NaN exactly where fewer than 2 runs; the report's SNR and its columns
    are the engine's."""
    claim = Claims()
    for path in paths:
        with h5py.File(path, "r") as f:
            S, R, N = f["flows/tracin/inflow"].shape
            s = {k: f["summary"][k][...] for k in f["summary"]}
            split = f.attrs["task"] != "recommender"
            if split:   # the engine's own training masks: one example per individual, in id order
                mask = f["splits/train_mask"][...].astype(bool)
                assert mask.shape == (S, N) and np.array_equal(f["individuals/id"][...], np.arange(N)), mask.shape
                trains = np.repeat(mask, R, axis=0)                 # [runs, N], run = split * R + seed
            else:
                trains = np.ones((S * R, N), bool)
            claim(s["snr_conditional"][0] == (1.0 if split else 0.0), f"{path}: /summary/snr_conditional")
            complete = f["runs/complete"][...].astype(bool).ravel()
            kinds = [("tracin", "", complete)]
            if "runs/marginal_complete" in f:
                kinds.append(("marginal", "marginal_", complete & f["runs/marginal_complete"][...].astype(bool).ravel()))
            for kind, p, used in kinds:
                snr_kind(claim, f, s, path, kind, p, used, trains, split)
    return claim.holds
