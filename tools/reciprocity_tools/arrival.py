"""Arrival figures and table of the report (time-ordered splits, docs/method.md section 9).

arrival_report(path, label, outdir) writes, for a results file with /individuals/arrival
(written with --split-order time or time-per-user):
  <label>_arrival.csv   per arrival decile (users ordered by the time of their first rating):
                        users, first and last arrival (UTC date), mean over users of the mean
                        (over complete runs) TracIn inflow and outflow, the fraction of users with
                        no outflow (no training rating in any run), the decile's reciprocity
                        r(mean inflow, mean outflow) and outflow - inflow
  <label>_arrival.png   left: mean inflow and mean outflow of each user against its arrival date;
                        right: the same averaged per arrival decile
and returns ([(file name, description)], [notes], rows). Files without arrival times: nothing.
"""

import csv
import datetime
import os

import numpy as np

from . import results as rr
from .metrics import reciprocity
from .style import pyplot


def _date(t):
    return datetime.datetime.fromtimestamp(int(t), datetime.timezone.utc).strftime("%Y-%m-%d")


def arrival_rows(arrival, inflow, outflow, bins=10):
    """Per-arrival-bin figures (dicts) from per-user arrival times [N] and flows [runs, N]."""
    order = np.argsort(arrival, kind="stable")
    mi, mo = inflow.mean(axis=0), outflow.mean(axis=0)
    never_gives = np.all(outflow == 0, axis=0)
    rows = []
    for k, part in enumerate(np.array_split(order, bins)):
        if len(part) == 0:
            continue
        i, o = mi[part].mean(), mo[part].mean()
        rows.append({"decile": k + 1, "users": len(part), "first_arrival": _date(arrival[part].min()),
                     "last_arrival": _date(arrival[part].max()), "mean_inflow": i, "mean_outflow": o,
                     "no_outflow_fraction": float(never_gives[part].mean()),
                     "reciprocity": float(reciprocity(i, o)), "outflow_minus_inflow": o - i})
    return rows


def arrival_report(path, label, outdir, plots=True):
    with rr.open_results(path) as f:
        if "individuals/arrival" not in f:
            return [], [], []
        arrival = f.values("individuals/arrival")
        used = f.values("runs/complete").astype(bool).ravel()
        N = arrival.shape[0]
        inflow = f.values("flows/tracin/inflow").reshape(-1, N)[used]
        outflow = f.values("flows/tracin/outflow").reshape(-1, N)[used]
        order_name = f.text_attrs.get("config_split-order", "?")
    if inflow.shape[0] == 0:
        return [], [f"{path}: arrival figures skipped: no complete run"], []
    rows = arrival_rows(arrival, inflow, outflow)
    name = f"{label}_arrival.csv"
    with open(os.path.join(outdir, name), "w", newline="") as out:
        w = csv.DictWriter(out, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    figures = [(name, f"{path}: TracIn flows per arrival decile ({inflow.shape[0]} runs, --split-order {order_name})")]
    last = rows[-1]
    notes = [f"{path}: latest-arriving decile of users ({last['first_arrival']} to {last['last_arrival']}): "
             f"mean inflow {last['mean_inflow']:.4g}, mean outflow {last['mean_outflow']:.4g}, "
             f"{100 * last['no_outflow_fraction']:.0f}% with no outflow; earliest decile: inflow "
             f"{rows[0]['mean_inflow']:.4g}, outflow {rows[0]['mean_outflow']:.4g}"]
    if not plots:
        return figures, notes, rows
    plt = pyplot()
    mi, mo = inflow.mean(axis=0), outflow.mean(axis=0)
    days = (arrival - arrival.min()) / 86400.0
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.3))
    ax.scatter(days, mi, s=6, alpha=0.6, label="mean inflow", color="tab:blue")
    ax.scatter(days, mo, s=6, alpha=0.6, label="mean outflow", color="tab:orange")
    ax.axhline(0, color="grey", lw=0.6)
    ax.set_xlabel(f"arrival (days after the first user, {_date(arrival.min())})")
    ax.set_ylabel("TracIn flow (loss units), mean over runs")
    ax.set_title("each user")
    ax.legend(loc="best", fontsize=8)
    k = np.arange(1, len(rows) + 1)
    bx.plot(k, [r["mean_inflow"] for r in rows], "o-", label="mean inflow", color="tab:blue")
    bx.plot(k, [r["mean_outflow"] for r in rows], "s-", label="mean outflow", color="tab:orange")
    bx.axhline(0, color="grey", lw=0.6)
    bx.set_xticks(k)
    bx.set_xlabel("arrival decile (1: earliest users)")
    bx.set_ylabel("mean over the decile's users")
    bx.set_title("per arrival decile")
    bx.legend(loc="best", fontsize=8)
    fig.suptitle(f"{os.path.basename(path)}: flows against arrival (--split-order {order_name}, "
                 f"{inflow.shape[0]} runs)", fontsize=10)
    fig.tight_layout()
    name = f"{label}_arrival.png"
    fig.savefig(os.path.join(outdir, name), dpi=110)
    plt.close(fig)
    figures.append((name, f"{path}: mean inflow and outflow of each user against its arrival, and per arrival decile"))
    return figures, notes, rows
