"""Summary tables and figures of reciprocity results files.

Reads one or more HDF5 results files written by the `reciprocity` program and
writes, into the output directory:

  summary.md, summary.csv, summary.json
      one row per (file, flow kind): the data set and model, the runs used,
      deployment RMSE / loss / accuracy, first-order discrepancy percentiles,
      the reciprocity figures of a single run (mean and sd over runs) and "in
      expectation" (on the per-individual mean flows), and the signal-to-noise
      ratio of each individual's inflow and outflow across runs: where
      individuals are split (regression, classification) the conditional SNR,
      inflow over the runs where the individual is deployed, outflow over those
      where it trains (the all-runs SNR as extra columns snr_*_all_runs_*)
  <label>_<kind>_scatter.png        inflow vs outflow of the per-individual means
  <label>_snr.png                   SNR distribution, TracIn vs Marginal
                                    (conditional SNR where individuals are split)
  <label>_discrepancy.png           first-order discrepancy |d| against step
  <label>_<kind>_reciprocity.png    distribution of r_i of the means, and of one run where
                                    individuals both train and are deployed in a run (recommender)
  <label>_<kind>_spread.png         per-individual spread over the seeds of one split (5 or more)
  gallery.png                       --gallery: every figure on one page (a contact sheet)
  <label>_entities.csv, <label>_entities_matrix.png, <label>_entities_flows.png
                                    files written with --entities: per-entity mean
                                    flows, heat map of the mean entity matrix,
                                    inflow vs outflow per entity (entities.py)
  gap.png, gap.csv                  when a file was written with --batches single-pass: the
                                    relative gap between mean inflow and mean outflow against
                                    the runs averaged, one curve per file (gap.py)
  clip.png, clip.csv                when a file was written with --clip: alpha, correlation and
                                    the model's quality against the clipping norm C, per data set
                                    (noised runs as separate markers; clip.py)
  <label>_arrival.csv, <label>_arrival.png
                                    files written with --split-order time or time-per-user:
                                    mean inflow and outflow per user against its arrival
                                    (first rating), and per arrival decile (arrival.py)
  <label>_knn_outliers.csv, <label>_knn_outliers.png
                                    files written with --model knn (read their data again from
                                    config_data): Marginal flows against each individual's
                                    isolation in feature space, per isolation decile
                                    (knn.py)

<label> is the file name without .h5 (made unique when two files share it);
<kind> is "tracin" or "marginal" (the latter only where the file holds
marginal flows; a --model knn file has Marginal flows only, and no discrepancy figure).

The figures are the engine's, read from the file's /summary (src/app/summary.cpp; a
file without a current summary is summarised by the program on a temporary copy), so
the table repeats the numbers the engine prints at the end of a run.

Exit status: 0 on success, 2 when a file is refused or the command line is
wrong, 1 when the output cannot be written.
"""

import argparse
import os
import sys
import textwrap

from . import figures, paper, report_data, tables
from .report_data import Refused, default_beta
from .style import LAYOUT_PROBLEMS, pyplot

EXIT_REFUSED = 2
EXIT_OUTPUT = 1
FLOW_KINDS = ("tracin", "marginal")


def fail(message, status):
    """Print `report: error: message` on stderr and exit with `status` (no traceback)."""
    print(f"report: error: {message}", file=sys.stderr)
    sys.exit(status)


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="report",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=__doc__.split("\n\n", 1)[1],
        epilog=textwrap.fill(
            "Every figure is the engine's, read from the file's /summary (definitions: docs/method.md section 2): "
            "reciprocity, alpha at beta, correlation and negative fractions of each run and of the per-individual "
            "mean flows (single run = mean (sample sd) over the runs of the per-run figure), and the SNR of each "
            "individual's flow across runs, conditional where individuals are split (inflow over the runs where it "
            "is deployed, outflow over those where it trains; the all-runs SNR in the snr_*_all_runs_* columns), "
            "percentiles over the individuals where it is defined. A file whose /summary is missing or not that of "
            "its complete runs is summarised by the program (`reciprocity --summarize`) on a temporary copy; "
            "alpha at a --beta other than the summary's is computed from the flows (reciprocity_tools.metrics, "
            "held equal to the engine by tests). Discrepancy percentiles: of |d| over all steps of the runs used. "
            "A file with incomplete runs (/runs/complete = 0) is refused unless --completed-only. Marginal rows use "
            "the complete runs whose /runs/marginal_complete flag is set (all complete runs when the flag is "
            "absent).", 78)
        + "\n\nExample:\n  tools/report ml100k.h5 diabetes.h5 --out report/\n"
          "  tools/report --completed-only --json killed-job.h5 --out /tmp/peek | jq '.[0].expectation_alpha'")
    p.add_argument("files", nargs="*", metavar="FILE.h5", help="results files written by reciprocity")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory (created if missing)")
    p.add_argument("--completed-only", action="store_true",
                   help="summarise only the completed runs of files with incomplete runs (killed or running jobs)")
    p.add_argument("--json", action="store_true",
                   help="print the table as JSON on stdout instead of Markdown (summary.json is always written)")
    p.add_argument("--beta", type=float, default=None,
                   help="beta of alpha at beta (default: the file's /summary/beta, else the program's --beta default)")
    p.add_argument("--spread-split", type=int, default=None, metavar="S",
                   help="split of the per-individual spread figure (default: the first with the most seeds)")
    p.add_argument("--no-plots", action="store_true", help="write the tables only")
    p.add_argument("--gallery", action="store_true",
                   help="also write gallery.png: every figure of this report on one page (a contact sheet)")
    p.add_argument("--paper", metavar="DIR", default=None,
                   help="also write paper_vs_ours.md/.csv (every number the paper reports beside ours, with the "
                        "tolerance and verdict) and the paper's extra figures, from the files tools/reproduce "
                        "writes into DIR (ml100k.h5, diabetes.h5, ...; see paper.py)")
    args = p.parse_args(argv)
    if not args.files and not args.paper:
        p.error("give results files, or --paper DIR")
    if args.beta is not None and not 0 < args.beta <= 1:
        p.error(f"--beta: {args.beta} is out of range (0, 1]")
    return args


def write_outputs(args, results):
    """The table's rows, and the figures and notes of every file (figures unless --no-plots)."""
    rows, drawn, notes = [], [], []
    for res in results:
        notes.extend(res.notes)
        stats = [report_data.flow_stats(res, kind) for kind in FLOW_KINDS if kind in res.flows]
        rows.extend(tables.table_row(st) for st in stats)
        if not args.no_plots:
            f, n = figures.make_plots(res, stats, args.out, args.spread_split)
            drawn.extend(f)
            notes.extend(n)
    if not args.no_plots:
        for part in (figures.gap_figure, figures.clip_figure):
            f, n = part(results, args.out)
            drawn.extend(f)
            notes.extend(n)
        if args.gallery:
            g = figures.write_gallery(drawn, args.out)
            if g:
                drawn.append((g, f"every figure above on one page ({len(drawn)} figures)"))
    with open(os.path.join(args.out, "summary.md"), "w") as out:
        out.write(tables.markdown_document(results, rows, drawn, notes))
    tables.write_csv(rows, os.path.join(args.out, "summary.csv"))
    with open(os.path.join(args.out, "summary.json"), "w") as out:
        out.write(tables.json_text(rows))
    return rows, notes


def paper_outputs(args):
    """--paper DIR: paper_vs_ours.md/.csv and the paper's figures (paper.py)."""
    if not os.path.isdir(args.paper):
        fail(f'--paper: "{args.paper}" is not a directory', EXIT_REFUSED)
    try:
        text, paper_figures = paper.paper_comparison(args.paper, args.out, beta=args.beta or default_beta(),
                                                     plots=not args.no_plots)
    except Refused as e:
        fail(str(e), EXIT_REFUSED)
    except OSError as e:
        fail(f'writing to "{args.out}": {e}', EXIT_OUTPUT)
    print("Paper vs this program (paper_vs_ours.md):\n" + text)
    for f in paper_figures:
        print(f"report: figure {f}", file=sys.stderr)


def main(argv):
    args = parse_args(argv)
    try:
        pyplot(styled=True)
    except ImportError as e:
        fail(f"{e.name} is missing: install the Debian package python3-matplotlib", EXIT_OUTPUT)
    results = []
    for path, label in zip(args.files, report_data.unique_labels(args.files)):
        try:
            results.append(report_data.load_results(path, label, args.completed_only, args.beta))
        except Refused as e:
            fail(str(e), EXIT_REFUSED)
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as e:
        fail(f'cannot create output directory "{args.out}": {e.strerror}', EXIT_OUTPUT)
    try:
        rows, notes = write_outputs(args, results)
    except OSError as e:
        fail(f'writing to "{args.out}": {e}', EXIT_OUTPUT)
    if args.paper:
        paper_outputs(args)
    sys.stdout.write(tables.json_text(rows) if args.json else tables.markdown_table(rows))
    for n in notes:
        print(f"report: note: {n}", file=sys.stderr)
    for problem in LAYOUT_PROBLEMS:
        print(f"report: layout: {problem}", file=sys.stderr)
    return 3 if LAYOUT_PROBLEMS else 0
