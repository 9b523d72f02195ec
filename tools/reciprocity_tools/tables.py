"""The report's table: one row per (file, flow kind), as Markdown, CSV and JSON (summary.md,
summary.csv, summary.json). Single-run figures are the mean (sample sd) over the runs used of the
engine's per-run figures; "expectation" figures are the engine's figures of the mean flows.
"""

import csv
import json
import math
import os

import numpy as np

from .metrics import finite_mean, finite_sd, percentile
from .report_data import FLOW_TITLES

SNR_PERCENTILES = (10, 50, 90)
# Columns of the table: summary.csv and summary.json carry every key at full precision.
COLUMNS = (
    "file", "flow", "dataset", "model", "task", "status", "splits", "seeds", "runs_used", "runs_total",
    "beta", "rmse_mean", "rmse_sd", "deploy_loss", "accuracy",
    "discrepancy_p50", "discrepancy_p80", "discrepancy_p95",
    "single_alpha_mean", "single_alpha_sd", "single_correlation_mean", "single_correlation_sd",
    "single_negative_inflow_mean", "single_negative_inflow_sd",
    "single_negative_outflow_mean", "single_negative_outflow_sd",
    "expectation_alpha", "expectation_correlation",
    "expectation_negative_inflow", "expectation_negative_outflow",
    "snr_conditional",
    "snr_inflow_p10", "snr_inflow_p50", "snr_inflow_p90", "snr_inflow_above_1", "snr_inflow_individuals",
    "snr_outflow_p10", "snr_outflow_p50", "snr_outflow_p90", "snr_outflow_above_1", "snr_outflow_individuals",
    "snr_inflow_all_runs_p10", "snr_inflow_all_runs_p50", "snr_inflow_all_runs_p90", "snr_inflow_all_runs_above_1",
    "snr_inflow_all_runs_individuals",
    "snr_outflow_all_runs_p10", "snr_outflow_all_runs_p50", "snr_outflow_all_runs_p90", "snr_outflow_all_runs_above_1",
    "snr_outflow_all_runs_individuals",
)


def snr_columns(prefix, snr):
    """Percentiles 10/50/90, fraction above 1 and count of one side's defined (finite) SNRs."""
    v = snr[np.isfinite(snr)]
    cols = {f"{prefix}_p{q}": percentile(v, q) for q in SNR_PERCENTILES}
    cols[f"{prefix}_above_1"] = float(np.mean(v > 1)) if len(v) else math.nan
    cols[f"{prefix}_individuals"] = int(len(v))
    return cols


def table_row(st):
    """One row of the summary table for one (file, flow kind)."""
    res, used = st.res, st.res.flows[st.kind].used
    disc = np.abs(res.discrepancy[used])
    accuracy = finite_mean(res.deploy_accuracy[used])
    is_classification = res.attrs.get("task") == "classification" or (
        "task" not in res.attrs and accuracy > 0)
    row = {
        "file": res.path, "flow": st.kind,
        "dataset": res.attrs.get("config_dataset", ""), "model": res.attrs.get("config_model", ""),
        "task": res.attrs.get("task", ""), "status": res.attrs.get("status", ""),
        "splits": res.splits, "seeds": res.seeds, "runs_used": len(st.runs), "runs_total": res.complete.size,
        "beta": res.beta,
        "rmse_mean": finite_mean(res.deploy_rmse[used]), "rmse_sd": finite_sd(res.deploy_rmse[used]),
        "deploy_loss": finite_mean(res.deploy_loss_final[used]),
        "accuracy": accuracy if is_classification else None,
    }
    row.update({f"discrepancy_p{q}": percentile(disc, q) for q in (50, 80, 95)})
    for name in ("alpha", "correlation", "negative_inflow", "negative_outflow"):
        per_run = [s[name] for s in st.single]
        row[f"single_{name}_mean"] = finite_mean(per_run)
        row[f"single_{name}_sd"] = finite_sd(per_run)
    row.update({f"expectation_{name}": value for name, value in st.expectation.items()})
    row["snr_conditional"] = res.snr_conditional
    row.update(snr_columns("snr_inflow", st.snr_inflow))
    row.update(snr_columns("snr_outflow", st.snr_outflow))
    row.update(snr_columns("snr_inflow_all_runs", st.snr_inflow_all_runs))
    row.update(snr_columns("snr_outflow_all_runs", st.snr_outflow_all_runs))
    assert list(row) == list(COLUMNS), "table_row and COLUMNS disagree"
    return row


# ----------------------------------------------------------------------------------------
# Table writers
# ----------------------------------------------------------------------------------------

def fmt(value, spec=".4f"):
    """A number as the engine prints it; '-' for missing or NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(value, spec)


def mean_sd(row, name):
    return f"{fmt(row[name + '_mean'])} ({fmt(row[name + '_sd'])})"


def snr_cell(row, side):
    cell = " / ".join(fmt(row[f"snr_{side}_p{q}"], ".2f") for q in SNR_PERCENTILES)
    return ("cond. " + cell) if row["snr_conditional"] else cell


def markdown_table(rows):
    """The summary as a Markdown table: single-run figures as mean (sd), as the engine prints them."""
    beta = ", ".join(sorted({f"{r['beta']:.2f}" for r in rows}))
    headers = ["file", "flow", "dataset", "model", "splits x seeds", "runs used", "RMSE mean (sd)",
               "deploy loss", "accuracy", "discrepancy p50 / p80 / p95",
               f"alpha@beta={beta} single", "alpha expect.", "corr single", "corr expect.",
               "neg. inflow single", "neg. inflow expect.", "neg. outflow single", "neg. outflow expect.",
               "SNR inflow p10 / p50 / p90", "SNR inflow >1", "SNR outflow p10 / p50 / p90", "SNR outflow >1"]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for r in rows:
        cells = [os.path.basename(r["file"]), FLOW_TITLES[r["flow"]], r["dataset"], r["model"],
                 f"{r['splits']} x {r['seeds']}", f"{r['runs_used']} of {r['runs_total']}",
                 f"{fmt(r['rmse_mean'])} ({fmt(r['rmse_sd'])})", fmt(r["deploy_loss"]), fmt(r["accuracy"]),
                 " / ".join(fmt(r[f"discrepancy_p{q}"], ".3g") for q in (50, 80, 95)),
                 mean_sd(r, "single_alpha"), fmt(r["expectation_alpha"]),
                 mean_sd(r, "single_correlation"), fmt(r["expectation_correlation"]),
                 mean_sd(r, "single_negative_inflow"), fmt(r["expectation_negative_inflow"]),
                 mean_sd(r, "single_negative_outflow"), fmt(r["expectation_negative_outflow"]),
                 snr_cell(r, "inflow"), fmt(r["snr_inflow_above_1"]),
                 snr_cell(r, "outflow"), fmt(r["snr_outflow_above_1"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def json_value(v):
    """JSON-safe value: NaN and inf become null, numpy scalars plain Python."""
    if hasattr(v, "item"):
        v = v.item()
    return None if isinstance(v, float) and not math.isfinite(v) else v


def json_text(rows):
    return json.dumps([{k: json_value(v) for k, v in r.items()} for r in rows], indent=2) + "\n"


def write_csv(rows, path):
    """summary.csv: every column, full precision (repr), empty cell for missing, 'nan' for NaN."""
    with open(path, "w", newline="") as out:
        w = csv.DictWriter(out, fieldnames=COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({k: "" if v is None else (repr(float(v)) if isinstance(v, float) else v) for k, v in r.items()})


def markdown_document(results, rows, figures, notes):
    """summary.md: the table, the files' provenance, the figures and notes."""
    parts = ["# Reciprocity report\n", markdown_table(rows),
             "\nSingle-run figures are mean (sample sd) over the runs used; \"expect.\" figures are computed on "
             "each individual's mean inflow and outflow over those runs. SNR = |mean| / sample sd of an "
             "individual's flow across runs, percentiles over the individuals where it is defined (2 or more "
             "runs, sd > 0); \"cond.\": individuals are split, so the conditional SNR: inflow over the runs "
             "where the individual is deployed, outflow over those where it trains (the all-runs SNR, zeros "
             "included, is in the snr_*_all_runs_* columns). All columns at full precision "
             "are in summary.csv and summary.json.\n", "\n## Files\n"]
    for res in results:
        a = res.attrs
        parts.append(f"- `{res.path}`: {a.get('config_dataset', '?')} ({a.get('data_source', '?')}), model "
                     f"{a.get('config_model', '?')}, {res.steps} steps, {len(res.ids)} individuals; status "
                     f"{a.get('status', '?')}; version {a.get('version', '?')} ({a.get('git_revision', '?')}); "
                     f"{a.get('start_time', '?')} to {a.get('end_time', '?')}; command: "
                     f"`{a.get('command_line', '?')}`\n")
    parts.append("\n## Figures\n")
    parts.extend(f"- `{name}`: {what}\n" for name, what in figures)
    if notes:
        parts.append("\n## Notes\n")
        parts.extend(f"- {n}\n" for n in notes)
    return "".join(parts)
