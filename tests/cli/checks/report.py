"""The report's outputs (tools/report: summary.csv, summary.json, figures) against the engine
(tests/cli/test_report.sh, test_report_figures.sh, test_knn.sh, ...)."""
import csv
import json
import os
import re
import struct

from common import Claims

# Engine line label -> summary.csv columns of (single mean, single sd, expectation).
ENGINE_LINES = {
    r"alpha at beta = 0\.75": ("single_alpha_mean", "single_alpha_sd", "expectation_alpha"),
    r"correlation\(inflow, outflow\)": ("single_correlation_mean", "single_correlation_sd", "expectation_correlation"),
    r"fraction negative inflows": ("single_negative_inflow_mean", "single_negative_inflow_sd",
                                   "expectation_negative_inflow"),
    r"fraction negative outflows": ("single_negative_outflow_mean", "single_negative_outflow_sd",
                                    "expectation_negative_outflow"),
}


def csv_matches_engine(engine_txt, summary_csv):
    """summary.csv's TracIn row holds the figures the engine printed (4 decimals, as it prints
    them): alpha, correlation, negative fractions (single run mean and sd, expectation), RMSE,
    deployment loss, discrepancy percentiles, runs complete."""
    engine = open(engine_txt).read()
    rows = [r for r in csv.DictReader(open(summary_csv)) if r["flow"] == "tracin"]
    if len(rows) != 1:
        print(f"    {len(rows)} TracIn rows")
        return False
    row, bad = rows[0], 0
    for label, cols in ENGINE_LINES.items():
        m = re.search(r"^" + label + r"\s+(\S+)\s+(\S+)\s+(\S+)\s*$", engine, re.M)
        if not m:
            print(f"    no line /{label}/ in the engine output")
            return False
        for want, col in zip(m.groups(), cols):
            got = "%.4f" % float(row[col])
            print(f"     {col:32s} engine {want:>8s} report {got:>8s}")
            bad += got != want
    m = re.search(r"deployment RMSE (\S+) \(sd (\S+)\), deployment loss (\S+)", engine)
    for want, col in zip(m.groups(), ("rmse_mean", "rmse_sd", "deploy_loss")):
        got = "%.4f" % float(row[col])
        print(f"     {col:32s} engine {want:>8s} report {got:>8s}")
        bad += got != want
    m = re.search(r"p50 (\S+), p80 (\S+), p95 (\S+)", engine)
    for want, col in zip(m.groups(), ("discrepancy_p50", "discrepancy_p80", "discrepancy_p95")):
        bad += "%.3g" % float(row[col]) != want
    runs = re.search(r"runs complete: (\d+) of (\d+)", engine).groups()
    bad += (row["runs_used"], row["runs_total"]) != runs
    return bad == 0


def is_png(path):
    """A real PNG of at least 300 x 200 pixels and 10 kB."""
    head = open(path, "rb").read(24)
    w, h = struct.unpack(">II", head[16:24])
    return (head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR" and w >= 300 and h >= 200
            and os.path.getsize(path) > 10000)


def json_first_flow(json_file, flow):
    """The report's --json output parses as JSON and its first row is of flow `flow`."""
    return json.load(open(json_file))[0]["flow"] == flow


def csv_rows(summary_csv, *wanted):
    """summary.csv has the rows `flow:column=value,...` (value "*": not empty), e.g.
    tracin:runs_used=6,expectation_alpha=*."""
    rows = {r["flow"]: r for r in csv.DictReader(open(summary_csv))}
    claim = Claims()
    for spec in wanted:
        flow, cells = spec.split(":", 1)
        for cell in cells.split(","):
            column, value = cell.split("=", 1)
            got = rows.get(flow, {}).get(column)
            claim(got not in (None, "") if value == "*" else got == value, f"{flow} {column} = {got!r} ({value})")
    return claim.holds


def layout_checker_finds():
    """The report's layout checker (reciprocity_tools.style) finds a legend put over data points
    and crowded tick labels, and thinning the tick labels clears the latter."""
    from reciprocity_tools import style
    plt = style.pyplot(styled=True)
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.scatter([0.1, 0.15, 0.2, 0.5, 0.9], [0.9, 0.85, 0.8, 0.5, 0.1], label="points")
    ax.legend(loc="upper left")
    bad_legend = style.layout_problems(fig)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot(range(100), range(100))
    ax.set_xticks(range(0, 100, 2))
    bad_ticks = style.layout_problems(fig)
    style.thin_tick_labels(fig, ax)
    after_thinning = style.layout_problems(fig)
    plt.close(fig)
    print(bad_legend, bad_ticks, after_thinning)
    return any("legend" in p for p in bad_legend) and any("tick" in p for p in bad_ticks) and not after_thinning
