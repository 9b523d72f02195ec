"""Tune a preset: on tuning splits, find the deployment-loss optimum over the steps.

For every combination of the hyperparameters given (comma-separated lists), trains
--tuning-splits runs (splits 0..K-1, seed 0, of the base seed --seed: use a seed other than the
evaluation sweep's, so tuning and evaluation splits differ) for --max-steps steps with the
`reciprocity` program, reads the deployment loss of every step from the results file
(/runs/deploy_loss), averages it over the tuning runs, and reports:

  best_step       the step count t* with the lowest mean deployment loss
  best_loss       that loss (MF and linear: mean squared error; logistic: mean log loss)
  split_steps     median [min, max] over the tuning runs of each run's own optimal step: how
                  much one split says about the optimum (the paper tuned on one split; on the
                  health sets one split can be far off, see docs/method.md section 8)
  best_rmse       sqrt(best_loss) for squared-error models
  final_loss      the loss after --max-steps (how far past the optimum training would go)
  disc_p50, disc_p80
                  percentiles of the first-order discrepancy |d_t| over the steps t < t* of
                  every tuning run
                  (TracIn's prediction of the drop in deployment loss against the actual drop)

The table is sorted by best_loss; the first row is the tuned operating point. The preset's
step count is t* (rounded), its other values the row's. `--report-flows` then trains the best
row for t* steps on `--flow-splits` x `--flow-seeds` runs and prints the program's summary, so
the reciprocity figures at the optimum can be seen (they are not used for the choice: the paper
tuned for the loss only).

Example (one of the MovieLens rounds of docs/method.md section 8, about 5 minutes on 2 cores):
  tools/tune --dataset movielens-100k --data ml-100k --max-steps 1600 --tuning-splits 3 \\
      --embedding-dim 8,16,24 --lambda 0.5,1,2 --init-scale 0.003 --learning-rate 9 --jobs 2

Writes tune.csv / tune.md / tune.json into --out-dir (default: tune/). Exit status 0, or 1
when a training fails (its message is shown), 2 for a bad command line.
"""

import argparse
import concurrent.futures
import csv
import itertools
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

from . import program

GRID = ("embedding-dim", "lambda", "init-scale", "learning-rate")


def parse_list(text, kind):
    try:
        return [kind(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f'"{text}" is not a comma-separated list of numbers') from None


def mpirun_prefix(ranks):
    if ranks <= 1:
        return []
    prefix = ["mpirun", "-n", str(ranks)]
    if os.cpu_count() and ranks > os.cpu_count():
        prefix.append("--oversubscribe")
    return prefix


def train(args, point, steps, out, splits=None, seeds=1, quiet=True):
    """Run the program for one grid point; return the completed process."""
    splits = args.tuning_splits if splits is None else splits
    cmd = mpirun_prefix(args.ranks) + [args.program, "--dataset", args.dataset, "--splits", str(splits),
                                       "--seeds", str(seeds), "--seed", str(args.seed), "--steps", str(steps),
                                       "--out", out]
    if args.data:
        cmd += ["--data", args.data]
    for name, value in point.items():
        cmd += [f"--{name}", repr(value)]
    cmd += args.extra
    if quiet:
        cmd.append("--quiet")
    return subprocess.run(cmd, capture_output=True, text=True)


def evaluate(args, point, workdir, index):
    out = os.path.join(workdir, f"point{index}.h5")
    proc = train(args, point, args.max_steps, out)
    if proc.returncode != 0:
        return dict(point, error=(proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1])
    with h5py.File(out, "r") as f:
        losses = f["runs/deploy_loss"][:, 0, :]     # [tuning splits, steps + 1]
        disc = f["runs/discrepancy"][:, 0, :]       # [tuning splits, steps]
        task = f.attrs.get("task", b"")
        task = task.decode() if isinstance(task, bytes) else str(task)
    os.remove(out)
    loss = losses.mean(axis=0)
    best = int(np.nanargmin(loss))
    d = np.abs(disc[:, :best])
    d = d[np.isfinite(d)]
    own = np.nanargmin(losses, axis=1)
    row = dict(point)
    row.update(best_step=best, best_loss=float(loss[best]), final_loss=float(loss[-1]),
               split_steps=f"{int(np.median(own))} [{own.min()}, {own.max()}]",
               disc_p50=float(np.percentile(d, 50)) if d.size else math.nan,
               disc_p80=float(np.percentile(d, 80)) if d.size else math.nan)
    row["best_rmse"] = math.sqrt(row["best_loss"]) if task != "classification" else math.nan
    return row


def write_tables(rows, outdir, names):
    os.makedirs(outdir, exist_ok=True)
    cols = list(names) + ["best_step", "split_steps", "best_loss", "best_rmse", "final_loss", "disc_p50", "disc_p80",
                          "error"]
    with open(os.path.join(outdir, "tune.csv"), "w", newline="") as fh:
        w = csv.DictWriter(fh, cols, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in cols})
    with open(os.path.join(outdir, "tune.json"), "w") as fh:
        json.dump(rows, fh, indent=1, default=float)
    lines = ["| " + " | ".join(cols[:-1]) + " |", "|" + "---|" * (len(cols) - 1)]
    for r in rows:
        if "error" in r:
            lines.append("| " + " | ".join(str(r.get(c, "")) for c in names) + f" | failed: {r['error']} |")
            continue
        cells = [f"{r[c]:g}" for c in names] + [str(r["best_step"]), r["split_steps"]] + \
                [f"{r[c]:.4f}" for c in ("best_loss", "best_rmse", "final_loss", "disc_p50", "disc_p80")]
        lines.append("| " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(outdir, "tune.md"), "w") as fh:
        fh.write(text)
    return text


def main(argv):
    p = argparse.ArgumentParser(prog="tune", description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", required=True, help="the program's --dataset")
    p.add_argument("--data", default="", help="the program's --data")
    p.add_argument("--program", default=None, help="the executable (default: program.py finds it: "
                   "$RECIPROCITY_PROGRAM, the installed or the source tree's build)")
    p.add_argument("--max-steps", type=int, required=True, help="steps of each tuning run (past the optimum)")
    p.add_argument("--seed", type=int, default=1000, help="base seed of the tuning splits (default 1000: not the "
                   "evaluation sweep's 0)")
    p.add_argument("--tuning-splits", type=int, default=1, help="tuning runs whose deployment losses are averaged "
                   "(the paper: 1)")
    for name in GRID:
        aliases = ["--rank"] if name == "embedding-dim" else []   # the program's alias
        p.add_argument(f"--{name}", *aliases, dest=name.replace("-", "_"), type=lambda t: parse_list(t, float),
                       default=None, help=f"values of --{name} to try (default: the preset's)")
    p.add_argument("--jobs", type=int, default=1, help="grid points trained at the same time")
    p.add_argument("--ranks", type=int, default=1, help="MPI ranks per grid point (1: no mpirun)")
    p.add_argument("--out-dir", default="tune", help="where tune.csv, tune.md and tune.json go")
    p.add_argument("--report-flows", action="store_true", help="train the best point at its optimum and print "
                   "the program's summary")
    p.add_argument("--flow-splits", type=int, default=3)
    p.add_argument("--flow-seeds", type=int, default=3)
    p.add_argument("extra", nargs="*", help="after --: more options passed to every training")
    args = p.parse_args(argv)
    if min(args.max_steps, args.jobs, args.ranks, args.tuning_splits) < 1:
        p.error("--max-steps, --jobs, --ranks and --tuning-splits must be positive")
    if args.program is None:
        try:
            args.program = program.executable()
        except program.ProgramMissing as e:
            p.error(str(e))
    if not os.access(args.program, os.X_OK):
        p.error(f'--program "{args.program}" is not an executable (build first: tools/build)')

    names = [n for n in GRID if getattr(args, n.replace("-", "_")) is not None]
    values = [getattr(args, n.replace("-", "_")) for n in names]
    points = [dict(zip(names, combo)) for combo in itertools.product(*values)] or [{}]
    for point in points:
        if "embedding-dim" in point:
            point["embedding-dim"] = int(point["embedding-dim"])
    workdir = tempfile.mkdtemp(prefix="reciprocity-tune-")
    rows = []
    try:
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            futures = {pool.submit(evaluate, args, pt, workdir, i): pt for i, pt in enumerate(points)}
            for n, fut in enumerate(concurrent.futures.as_completed(futures), 1):
                row = fut.result()
                rows.append(row)
                shown = ", ".join(f"{k} {v:g}" for k, v in futures[fut].items())
                status = row.get("error") or (f"optimum at step {row['best_step']}, loss {row['best_loss']:.4f}, "
                                              f"discrepancy p80 {row['disc_p80']:.4f}")
                print(f"[{n}/{len(points)}] {shown or 'preset'}: {status}", file=sys.stderr, flush=True)
        rows.sort(key=lambda r: (("error" in r), r.get("best_loss", math.inf)))
        print(write_tables(rows, args.out_dir, names))
        ok = [r for r in rows if "error" not in r]
        if not ok:
            return 1
        best = ok[0]
        point = {n: best[n] for n in names}
        print("tuned operating point: " + ", ".join(f"--{k} {v:g}" for k, v in point.items()) +
              f" --steps {best['best_step']} (deployment loss {best['best_loss']:.4f} on the tuning split)")
        if args.report_flows:
            out = os.path.join(workdir, "flows.h5")
            proc = train(args, point, max(best["best_step"], 1), out, args.flow_splits, args.flow_seeds, quiet=True)
            print(proc.stdout, end="")
            if proc.returncode != 0:
                print(proc.stderr, file=sys.stderr)
                return 1
        return 1 if len(ok) < len(rows) else 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
