"""What the report reads of a results file: its runs, its flows and the engine's figures.

The figures (reciprocity of the mean flows, alpha at beta, correlation, negative fractions, per
run and in expectation, the SNR of every individual, conditional where individuals are split) are
the engine's own, read from the file's /summary. A file whose /summary is missing or is not that
of the runs the report uses (a killed job's file, one summarised before its last runs or before
the SNR arrays were per individual) is summarised by the program on a temporary copy
(program.summarize_copy); the file itself is never written. Only alpha at a beta other than the
summary's is computed here, with metrics.py (held equal to the engine by the tests).
"""

import os
from dataclasses import dataclass, field

import numpy as np

from . import metrics, program
from . import results as rr

FLOW_TITLES = {"tracin": "TracIn", "marginal": "Marginal"}
PREFIX = {"tracin": "", "marginal": "marginal_"}
REQUIRED_DATASETS = (
    "individuals/id", "flows/tracin/inflow", "flows/tracin/outflow", "runs/complete",
    "runs/discrepancy", "runs/deploy_rmse", "runs/deploy_loss_final", "runs/deploy_accuracy",
)
# The engine's figures of one flow kind the report reads (/summary/<prefix><name>).
PER_INDIVIDUAL = ("mean_inflow", "mean_outflow", "reciprocity", "snr_inflow", "snr_outflow", "snr_inflow_all_runs",
                  "snr_outflow_all_runs")
SINGLE = {"alpha": "single_run_alpha", "correlation": "single_run_correlation",
          "negative_inflow": "single_run_negative_inflow_fraction",
          "negative_outflow": "single_run_negative_outflow_fraction"}
EXPECTATION = {"alpha": "alpha", "correlation": "correlation", "negative_inflow": "negative_inflow_fraction",
               "negative_outflow": "negative_outflow_fraction"}


class Refused(Exception):
    """A file (or request) the tool will not process; the message is shown to the user."""


@dataclass
class FlowData:
    """The flows of one kind (TracIn or Marginal) over the runs used for it."""
    kind: str
    used: "np.ndarray"      # [S, R] bool: runs that enter the figures
    inflow: "np.ndarray"    # [S, R, N]
    outflow: "np.ndarray"   # [S, R, N]
    summary: dict = None    # the engine's /summary/<prefix>* of these runs


@dataclass
class ReportFile:
    """Everything the report needs from one results file."""
    path: str
    label: str
    attrs: dict                     # root attributes as the program spells them (text)
    splits: int
    seeds: int
    steps: int
    ids: "np.ndarray"
    complete: "np.ndarray"          # [S, R] bool
    discrepancy: "np.ndarray"       # [S, R, steps]
    deploy_rmse: "np.ndarray"       # [S, R]
    deploy_loss_final: "np.ndarray"
    deploy_accuracy: "np.ndarray"
    beta: float
    snr_conditional: bool = False   # the summary's SNR is conditional (individuals are split)
    flows: dict = field(default_factory=dict)   # kind -> FlowData
    notes: list = field(default_factory=list)   # remarks for summary.md and stderr
    deployed: "np.ndarray" = None   # [S, R, N] bool where each individual has deployment examples


@dataclass
class FlowStats:
    """Per-individual and per-run figures of one flow kind of one file (shared by table and plots)."""
    res: ReportFile
    kind: str
    runs: list            # (split, seed) of the runs used, in file order
    inflow: "np.ndarray"  # [runs, N]
    outflow: "np.ndarray"
    mean_inflow: "np.ndarray"
    mean_outflow: "np.ndarray"
    reciprocity: "np.ndarray"           # [N] of the mean flows
    single: list          # figures of each run (alpha, correlation, negative_inflow, negative_outflow)
    expectation: dict     # the same of the mean flows
    snr_inflow: "np.ndarray"            # [N] conditional (split individuals) or all runs; NaN: undefined
    snr_outflow: "np.ndarray"
    snr_inflow_all_runs: "np.ndarray"   # [N] over all runs used, zeros included
    snr_outflow_all_runs: "np.ndarray"

    @property
    def title(self):
        return FLOW_TITLES[self.kind]


def default_beta():
    """The program's default --beta (for a file without a summary, and the paper's rows)."""
    try:
        return float(program.option_default("beta"))
    except program.ProgramMissing as e:
        raise Refused(f"the default beta is the program's: {e}; give --beta") from None


def check_layout(f, path):
    """Check the datasets the report reads exist with consistent shapes; return (S, R, N, steps)."""
    h = f.h5
    missing = [name for name in REQUIRED_DATASETS if name not in h]
    if missing:
        raise Refused(f'"{path}": dataset /{missing[0]} is missing (file damaged or written by another program?)')
    shape = h["flows/tracin/inflow"].shape
    if len(shape) != 3:
        raise Refused(f'"{path}": /flows/tracin/inflow has rank {len(shape)}, expected 3 (split, seed, individual)')
    S, R, N = shape
    steps = h["runs/discrepancy"].shape[-1]
    expected = {
        "flows/tracin/outflow": (S, R, N), "individuals/id": (N,), "runs/complete": (S, R),
        "runs/discrepancy": (S, R, steps), "runs/deploy_rmse": (S, R),
        "runs/deploy_loss_final": (S, R), "runs/deploy_accuracy": (S, R),
    }
    for side in ("inflow", "outflow"):
        if f"flows/marginal/{side}" in h:
            expected[f"flows/marginal/{side}"] = (S, R, N)
    if "runs/marginal_complete" in h:
        expected["runs/marginal_complete"] = (S, R)
    for name, want in expected.items():
        if h[name].shape != want:
            raise Refused(f'"{path}": /{name} has shape {h[name].shape}, expected {want}')
    return S, R, N, steps


def incomplete_message(path, complete, status):
    """Explain which runs of a file are incomplete."""
    missing = np.argwhere(~complete)
    listed = ", ".join(f"split {s} seed {r}" for s, r in missing[:5])
    more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
    return (f'"{path}": {len(missing)} of {complete.size} runs are incomplete ({listed}{more}; status: {status}). '
            "Finish it with `reciprocity --resume`, or pass --completed-only to summarise the completed runs")


def read_marginal(f, complete, path, notes):
    """The marginal flows when the file holds them, over the complete runs whose marginal flag is set."""
    if not all(f"flows/marginal/{side}" in f for side in ("inflow", "outflow")):
        return None
    used = complete.copy()
    if "runs/marginal_complete" in f:
        used &= f.values("runs/marginal_complete").astype(bool)
    if not used.any():
        notes.append(f"{path}: /flows/marginal present but no run has its marginal flows: Marginal skipped")
        return None
    if used.sum() < complete.sum():
        notes.append(f"{path}: Marginal flows computed for {int(used.sum())} of {int(complete.sum())} complete runs; "
                     "the Marginal rows use those runs only")
    return FlowData("marginal", used, f.values("flows/marginal/inflow"), f.values("flows/marginal/outflow"))


def read_summary(f, flows, n):
    """{kind: {name: values}} of the file's /summary for each FlowData in `flows`, plus "beta" and
    "snr_conditional"; or (None, why) when it is missing or not that of the runs in `flows`."""
    out = {}
    for kind, data in flows.items():
        p = "summary/" + PREFIX[kind]
        names = PER_INDIVIDUAL + tuple(SINGLE.values()) + tuple(EXPECTATION.values())
        absent = [name for name in names if p + name not in f]
        if absent or "summary/beta" not in f or "summary/snr_conditional" not in f:
            return None, f"without the figures /{p}{absent[0] if absent else 'beta'}"
        s = {name: f.values(p + name) for name in names}
        runs = f.coords(PREFIX[kind] + "run", len(s["single_run_alpha"]), p + "single_run_alpha")
        if runs is None or not np.array_equal(runs, np.flatnonzero(data.used.ravel())):
            return None, f"not that of the {int(data.used.sum())} {FLOW_TITLES[kind]} runs used"
        if any(len(s[name]) != n for name in PER_INDIVIDUAL):
            return None, "of an earlier version (SNR of the defined individuals only)"
        out[kind] = s
    out["beta"] = float(f.values("summary/beta")[0])
    out["snr_conditional"] = bool(f.values("summary/snr_conditional")[0])
    return out, ""


def attach_summary(f, res, n):
    """The engine's figures of each flow kind into res.flows[kind].summary: the file's /summary, or
    that of a temporary copy the program summarises (at res.beta) when the file's is not current."""
    summary, why = read_summary(f, res.flows, n)
    if summary is None:
        def read(copy):
            with rr.open_results(copy, verify=False) as c:
                return read_summary(c, res.flows, n)
        try:
            summary, why_copy = program.summarize_copy(res.path, res.beta, read)
        except program.ProgramMissing as e:
            raise Refused(f'"{res.path}": its /summary is {why}, and the program cannot make one ({e}); '
                          f"`reciprocity --summarize {res.path}` writes it") from None
        if summary is None:
            raise Refused(f'"{res.path}": `reciprocity --summarize` of a copy gave a summary {why_copy}')
        res.notes.append(f"{res.path}: its /summary is {why}: the figures are those of `reciprocity --summarize` "
                         "of a temporary copy (the file is unchanged)")
    for kind, data in res.flows.items():
        data.summary = dict(summary[kind], beta=summary["beta"])
    res.snr_conditional = summary["snr_conditional"]


def load_results(path, label, completed_only, beta=None):
    """Open, validate and read one results file. Raises Refused with a user-facing message."""
    try:
        f = rr.open_results(path)
    except rr.NotResults as e:
        raise Refused(str(e)) from None
    try:
        with f:
            S, R, N, steps = check_layout(f, path)
            attrs = f.text_attrs   # as the program spells them: numbers of any file version compare as text
            status = attrs.get("status", "(no status attribute)")
            complete = f.values("runs/complete").astype(bool)
            notes = []
            if not complete.all():
                if not completed_only:
                    raise Refused(incomplete_message(path, complete, status))
                if not complete.any():
                    raise Refused(f'"{path}": no run is complete (status: {status}): nothing to summarise')
                notes.append(f"{path}: --completed-only: using the {int(complete.sum())} completed runs "
                             f"of {complete.size}")
            elif status != "complete":
                notes.append(f"{path}: all runs complete but status is \"{status}\"")
            if beta is None:
                beta = float(f.values("summary/beta")[0]) if "summary/beta" in f else default_beta()
            res = ReportFile(
                path=path, label=label, attrs=attrs, splits=S, seeds=R, steps=steps,
                ids=f.coords("individual", N, "individuals/id"), complete=complete,
                discrepancy=f.values("runs/discrepancy"), deploy_rmse=f.values("runs/deploy_rmse"),
                deploy_loss_final=f.values("runs/deploy_loss_final"),
                deploy_accuracy=f.values("runs/deploy_accuracy"), beta=beta, notes=notes, deployed=f.deployed())
            tracin_in = f.values("flows/tracin/inflow")
            if np.isnan(tracin_in[complete]).all():
                # A model without gradient descent (--model knn) has no TracIn flows: NaN.
                notes.append(f"{path}: no TracIn flows (config_model {attrs.get('config_model', '?')}: no gradient "
                             "descent): Marginal only")
            else:
                res.flows["tracin"] = FlowData("tracin", complete, tracin_in, f.values("flows/tracin/outflow"))
            marginal = read_marginal(f, complete, path, notes)
            if marginal is not None:
                res.flows["marginal"] = marginal
            attach_summary(f, res, N)
            return res
    except (OSError, KeyError, ValueError, IndexError) as e:
        raise Refused(f'"{path}": cannot read ({e}); file damaged?') from None


def unique_labels(paths):
    """Figure-name prefixes: the file name without .h5, with a numeric suffix where names repeat."""
    stems = [os.path.splitext(os.path.basename(p))[0] or "results" for p in paths]
    labels, seen = [], {}
    for stem in stems:
        if stems.count(stem) > 1:
            seen[stem] = seen.get(stem, 0) + 1
            stem = f"{stem}-{seen[stem]}"
        labels.append(stem)
    return labels


def flow_stats(res, kind):
    """The figures of one flow kind over its runs: the engine's (/summary), alpha recomputed only
    when the report's beta is not the summary's."""
    data = res.flows[kind]
    s = data.summary
    used = data.used.ravel()          # run index s * R + r, the engine's order
    N = data.inflow.shape[2]
    inflow = data.inflow.reshape(-1, N)[used]
    outflow = data.outflow.reshape(-1, N)[used]
    single = [{k: float(s[name][i]) for k, name in SINGLE.items()} for i in range(len(inflow))]
    expectation = {k: float(s[name][0]) for k, name in EXPECTATION.items()}
    if res.beta != s["beta"]:
        for figures, i, o in zip(single, inflow, outflow):
            figures["alpha"] = metrics.alpha_at_beta(metrics.reciprocity(i, o), res.beta)
        expectation["alpha"] = metrics.alpha_at_beta(s["reciprocity"], res.beta)
    return FlowStats(
        res=res, kind=kind, runs=[tuple(x) for x in np.argwhere(data.used)], inflow=inflow, outflow=outflow,
        mean_inflow=s["mean_inflow"], mean_outflow=s["mean_outflow"], reciprocity=s["reciprocity"], single=single,
        expectation=expectation, snr_inflow=s["snr_inflow"], snr_outflow=s["snr_outflow"],
        snr_inflow_all_runs=s["snr_inflow_all_runs"], snr_outflow_all_runs=s["snr_outflow_all_runs"])
