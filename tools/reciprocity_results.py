"""Read a reciprocity results file as labelled arrays and a typed configuration.

    import sys; sys.path.insert(0, "tools")
    import reciprocity_results as rr

    with rr.open_results("ml.h5") as f:
        f.config["learning-rate"]                 # 8.0, a float (files of any version)
        inflow = f.array("flows/tracin/inflow")   # Labelled: .values [S, R, N], .dims, .coords
        inflow.dims                               # ('split', 'seed', 'individual')
        inflow.coords["individual"]               # the individuals' original ids
        inflow.sel(individual=196).values         # [S, R] flows of the individual with id 196
        done = f.array("runs/complete").values.astype(bool)
        ds = f.to_xarray("flows/tracin")          # an xarray.Dataset (needs xarray)

The layout is the program's (src/io/schema.cpp, src/io/README.md): SCHEMA_VERSION,
DIMENSIONS, DATASETS and ATTRIBUTES below repeat its tables, and tests/cli/test_schema.sh holds
them equal to what the program writes. A file of the current version describes itself (every
dataset carries `description`, `units` and HDF5 dimension scales); an earlier file (no
`schema_version` attribute: version 1) is labelled from these tables, and its numbers written
as text are parsed by their declared type.

Needs numpy and h5py; xarray only for to_xarray().
"""

import os
import zlib

import h5py
import numpy as np

FORMAT_MARKER = "reciprocity results"
SCHEMA_VERSION = 2

# ------------------------------------------------------------------------------------------
# The schema (the program's src/io/schema.cpp)
# ------------------------------------------------------------------------------------------

# name: (path, has coordinate values, element, units, description, set by the summary)
DIMENSIONS = {
    "split": ("/split", True, "int64", "",
              "index s of the random train/deployment split (with config_seed it decides which examples train)",
              False),
    "seed": ("/seed", True, "int64", "",
             "index r of the initialisation within a split (with the split it decides initial parameters and "
             "batches)", False),
    "individual": ("/individual", True, "int64", "",
                   "original id of the individual (MovieLens user id; health and csv: row number or id column), in "
                   "the order of every per-individual array", False),
    "step": ("/step", True, "int64", "step", "gradient-descent step t, the update from w_t to w_t+1 (t = 0..T-1)",
             False),
    "iterate": ("/iterate", True, "int64", "step",
                "t of the parameters w_t (t = 0..T: w_0 initial, w_T after the last step)", False),
    "example": ("/example", False, "uint8", "", "example (rating or row) of the data set, in file order", False),
    "entity": ("/entity", True, "int64", "",
               "index e of the entity (--entities), in the order of the sorted names of the root attribute "
               "entity_names (one per line); the training side of /flows/entity/matrix", False),
    "deployment_entity": ("/deployment_entity", True, "int64", "",
                          "index f of the entity whose deployment examples receive the flow (columns of "
                          "/flows/entity/matrix)", False),
    "percentile": ("/summary/percentile", True, "float64", "percent", "percentile over the steps of all runs used",
                   False),
    "scalar": ("/summary/scalar", False, "uint8", "", "the one entry of a single figure", False),
    "run": ("/summary/run", True, "int64", "",
            "run index split * R + seed of each run the TracIn single-run figures use", True),
    "marginal_run": ("/summary/marginal_run", True, "int64", "",
                     "run index split * R + seed of each run the Marginal single-run figures use", True),
}


class DatasetSchema:
    """One declared dataset: path (no leading /), element type, dimension names, units,
    description, and when it is present (always, individual_loss, save_mask, marginal, summary,
    summary_marginal, entities, entity_marginal, arrival, digest, marginal_digest)."""

    def __init__(self, path, element, dims, units, description, when, fill=0.0):
        self.path, self.element, self.dims = path.lstrip("/"), element, tuple(dims)
        self.units, self.description, self.when, self.fill = units, description, when, fill

    def __repr__(self):
        return f"DatasetSchema({self.path!r}, {self.element}, {self.dims}, units={self.units!r}, when={self.when})"


RUN = ("split", "seed")
RUN_INDIVIDUAL = ("split", "seed", "individual")
RUN_STEP = ("split", "seed", "step")


def _flows(kind, title, when):
    g = f"flows/{kind}/"
    return [
        DatasetSchema(g + "inflow", "float64", RUN_INDIVIDUAL, "loss",
                      f"{title} inflow I_i of each run: what other individuals' training data did for i's deployment "
                      "loss", when),
        DatasetSchema(g + "outflow", "float64", RUN_INDIVIDUAL, "loss",
                      f"{title} outflow O_i of each run: what i's training data did for other individuals' deployment "
                      "loss", when),
        DatasetSchema(g + "self", "float64", RUN_INDIVIDUAL, "loss",
                      f"{title} self-influence S_i of each run: i's training data on i's own deployment loss", when),
    ]


def _summary(prefix, title, when):
    ind, one, run = ("individual",), ("scalar",), (prefix + "run",)
    figures = [
        ("mean_inflow", ind, "loss", "inflow of each individual averaged over the runs used"),
        ("mean_outflow", ind, "loss", "outflow of each individual averaged over the runs used"),
        ("reciprocity", ind, "1", "reciprocity of each individual's mean inflow and outflow (in expectation)"),
        ("alpha", one, "1", "alpha at beta in expectation: a fraction beta of the individuals has reciprocity >= alpha"),
        ("correlation", one, "1", "Pearson correlation of the mean inflows and outflows across individuals"),
        ("negative_inflow_fraction", one, "1", "fraction of the nonzero mean inflows that are negative"),
        ("negative_outflow_fraction", one, "1", "fraction of the nonzero mean outflows that are negative"),
        ("single_run_alpha", run, "1", "alpha at beta of each run used"),
        ("single_run_correlation", run, "1", "Pearson correlation of inflows and outflows in each run used"),
        ("single_run_negative_inflow_fraction", run, "1",
         "fraction of the nonzero inflows that are negative, each run used"),
        ("single_run_negative_outflow_fraction", run, "1",
         "fraction of the nonzero outflows that are negative, each run used"),
        ("runs_used", one, "count", "number of runs the figures use"),
        ("snr_inflow", ind, "1",
         "SNR |mean|/sd of each individual's inflow across runs (conditional: the runs where it is deployed, where "
         "individuals are split; NaN where undefined)"),
        ("snr_outflow", ind, "1",
         "SNR of each individual's outflow across runs (conditional: the runs where it trains, where individuals are "
         "split; NaN where undefined)"),
        ("snr_inflow_all_runs", ind, "1", "SNR of each individual's inflow over all runs, zeros included (NaN: undefined)"),
        ("snr_outflow_all_runs", ind, "1",
         "SNR of each individual's outflow over all runs, zeros included (NaN: undefined)"),
    ]
    return [DatasetSchema(f"summary/{prefix}{name}", "float64", dims, units, f"{title}: {what}", when)
            for name, dims, units, what in figures]


DATASETS = (
    [DatasetSchema("individuals/id", "int64", ("individual",), "",
                   "original id of each individual (the coordinate /individual; kept for readers of earlier files)",
                   "always"),
     DatasetSchema("individuals/arrival", "int64", ("individual",), "s",
                   "time of each individual's first rating (its arrival; Unix seconds, the data's timestamps), written "
                   "with a time-ordered split (--split-order time or time-per-user)", "arrival")]
    + _flows("tracin", "TracIn", "always")
    + [
        DatasetSchema("runs/train_loss", "float64", RUN_STEP, "loss",
                      "mean training loss (with regulariser) over the batch at w_t", "always"),
        DatasetSchema("runs/discrepancy", "float64", RUN_STEP, "1",
                      "first-order discrepancy of step t: (TracIn's predicted drop - actual drop of the deployment "
                      "loss) / actual drop (NaN where the loss did not change, or t is not a checkpoint)", "always"),
        DatasetSchema("runs/deploy_loss", "float64", ("split", "seed", "iterate"), "loss",
                      "mean deployment loss at w_t, t = 0..T", "always"),
        DatasetSchema("runs/deploy_rmse", "float64", RUN, "label",
                      "deployment RMSE at the end of the run (classification: square root of the Brier score)",
                      "always"),
        DatasetSchema("runs/deploy_loss_final", "float64", RUN, "loss", "mean deployment loss at the end of the run",
                      "always"),
        DatasetSchema("runs/deploy_accuracy", "float64", RUN, "1", "deployment accuracy (NaN unless classification)",
                      "always"),
        DatasetSchema("runs/train_examples", "float64", RUN, "count", "number of training examples |T|", "always"),
        DatasetSchema("runs/deploy_examples", "float64", RUN, "count", "number of deployment examples |D|", "always"),
        DatasetSchema("runs/complete", "uint8", RUN, "1", "1 once the run's rows are all written: use only these runs",
                      "always"),
        DatasetSchema("runs/diverged_step", "float64", RUN, "step",
                      "step where the run diverged (--on-divergence continue; its rows are not written), else -1",
                      "always", -1.0),
        DatasetSchema("runs/individual_deploy_loss", "float64", RUN_INDIVIDUAL, "loss",
                      "summed final loss of each individual's deployment examples (0 where it has none)",
                      "individual_loss"),
        DatasetSchema("splits/train_mask", "uint8", ("split", "example"), "1",
                      "1 where the example is in the training set of the split (--save-split-mask)", "save_mask"),
    ]
    + _flows("marginal", "Marginal", "marginal")
    + [DatasetSchema("flows/entity/inflow", "float64", RUN + ("entity",), "loss",
                     "Entity TracIn inflow I_e of each run: what other entities' training data did for e's deployment loss", "entities"),
       DatasetSchema("flows/entity/outflow", "float64", RUN + ("entity",), "loss",
                     "Entity TracIn outflow O_e of each run: what e's training data did for other entities' deployment loss", "entities"),
       DatasetSchema("flows/entity/self", "float64", RUN + ("entity",), "loss",
                     "Entity TracIn self-influence S_e of each run: e's training data on e's own deployment loss (the flows between its members included)", "entities")]
    + [DatasetSchema("flows/entity/matrix", "float64", RUN + ("entity", "deployment_entity"), "loss",
                     "Entity TracIn matrix M[e, f] = sum_t (eta/|B_t|) G^B_e . G^D_f of each run: what entity e's "
                     "training data did for entity f's deployment loss (row sums minus the diagonal: outflows; column "
                     "sums minus the diagonal: inflows; diagonal: self-influence)", "entities")]
    + [DatasetSchema("flows/entity_marginal/inflow", "float64", RUN + ("entity",), "loss",
                     "Entity Marginal inflow of each run: what removing each other entity's training data does to e's "
                     "deployment loss, summed (leave-one-entity-out retraining)", "entity_marginal"),
       DatasetSchema("flows/entity_marginal/outflow", "float64", RUN + ("entity",), "loss",
                     "Entity Marginal outflow of each run: what removing e's training data does to the other entities' "
                     "deployment loss, summed (leave-one-entity-out retraining)", "entity_marginal"),
       DatasetSchema("flows/entity_marginal/self", "float64", RUN + ("entity",), "loss",
                     "Entity Marginal self-influence of each run: what removing e's training data does to e's own "
                     "deployment loss", "entity_marginal"),
       DatasetSchema("flows/entity_marginal/matrix", "float64", RUN + ("entity", "deployment_entity"), "loss",
                     "Entity Marginal matrix M[e, f] = sum over f's deployment examples of l(w without entity e's training "
                     "data) - l(w) of each run (rows: the entity removed; row sums minus the diagonal: outflows; column "
                     "sums minus the diagonal: inflows)", "entity_marginal")]
    + [DatasetSchema("runs/marginal_complete", "uint8", RUN, "1", "1 once the run's Marginal flows are written",
                     "marginal"),
       DatasetSchema("runs/digest", "int64", RUN, "",
                     "CRC-32 (zlib) of the run's rows: the datasets named in this dataset's attribute rows, in that "
                     "order, each run's row as little-endian float64, one after the other; -1 where not recorded (a "
                     "run not complete)", "digest", -1.0),
       DatasetSchema("runs/marginal_digest", "int64", RUN, "",
                     "CRC-32 (zlib) of the run's Marginal rows, as /runs/digest (the datasets named in its attribute "
                     "rows)", "marginal_digest", -1.0)]
    + _summary("", "TracIn", "summary")
    + _summary("marginal_", "Marginal", "summary_marginal")
    + [
        DatasetSchema("summary/beta", "float64", ("scalar",), "1", "beta of the alpha-at-beta figures", "summary"),
        DatasetSchema("summary/snr_conditional", "float64", ("scalar",), "1",
                      "1 when the SNR figures are conditional (individuals are split), else 0", "summary"),
        DatasetSchema("summary/discrepancy_percentiles_50_80_95", "float64", ("percentile",), "1",
                      "percentiles of |first-order discrepancy| over the steps of the complete runs", "summary"),
        DatasetSchema("summary/runs_complete", "float64", ("scalar",), "count", "number of complete runs", "summary"),
    ]
)
DATASET = {d.path: d for d in DATASETS}

_OPTIONS = [
    ("dataset", "text"), ("data", "text"), ("model", "text"), ("csv-individual", "bool"), ("seed", "uint64"),
    ("train-fraction", "float64"), ("rank", "int64"), ("lambda", "float64"), ("init-scale", "float64"),
    ("steps", "int64"), ("learning-rate", "float64"), ("batch-fraction", "float64"), ("flow-interval", "int64"),
    ("seeds", "int64"), ("save-split-mask", "bool"), ("marginal", "bool"), ("marginal-splits", "int64"),
    ("marginal-step", "text"), ("entities", "text"), ("synthetic-users", "int64"), ("synthetic-items", "int64"),
    ("synthetic-ratings", "int64"), ("synthetic-rank", "int64"), ("batches", "text"), ("split-order", "text"),
    ("clip", "float64"), ("noise-multiplier", "float64"), ("neighbours", "int64"),
]
# Root attributes: name -> (type, description); types text, bool (stored as "true"/"false"),
# int64, uint64, float64. Undeclared attributes are text.
ATTRIBUTES = dict([
    ("format", ("text", "\"reciprocity results\": marks a results file")),
    ("schema_version", ("int64", "version of this layout (absent: 1, files before descriptions and scales)")),
    ("program", ("text", "the program that wrote the file")),
    ("version", ("text", "its version")),
    ("git_revision", ("text", "its source revision")),
    ("command_line", ("text", "the command line that created the file")),
    ("configuration", ("text", "the options that determine the numbers, one `name = value` line each")),
    ("ranks", ("int64", "MPI processes of the job that created the file")),
    ("ranks_per_run", ("int64", "MPI processes that computed each run")),
    ("start_time", ("text", "when the file was created (UTC, ISO 8601)")),
    ("end_time", ("text", "when the last job on the file ended (UTC, ISO 8601)")),
    ("status", ("text", "running | complete | partial: ... | stopped | failed: ...")),
    ("resumed_at", ("text", "when the file was last resumed (UTC, ISO 8601)")),
    ("command_line_resume", ("text", "the command line of the last --resume")),
    ("merged_from", ("text", "the files a --merge combined")),
    ("beta", ("float64", "beta of alpha at beta asked for when the file was created")),
    ("task", ("text", "recommender | regression | classification")),
    ("data_source", ("text", "the data read")),
    ("data_fingerprint", ("text", "the input data by content: crc32:<hex>/<bytes> per file read (synthetic: of the generator's specification)")),
    ("data_files", ("text", "the input files read: path, size and CRC-32, one line each")),
    ("splits", ("int64", "S, the length of the split axis")),
    ("seeds", ("int64", "R, the length of the seed axis")),
    ("steps", ("int64", "T, gradient-descent steps of each run")),
    ("individuals", ("int64", "N, the length of the individual axis")),
    ("examples", ("int64", "M, examples in the data set")),
    ("entity_names", ("text", "--entities: the name of each entity, one per line, in entity order")),
    ("entity_sizes", ("text", "--entities: the number of individuals of each entity, space separated")),
    ("entity_source", ("text", "--entities: the file the grouping was read from")),
    ("entity_assignment", ("text", "--entities: CRC-32 of the entity name of every individual in individual order "
                                   "(compared by --resume and --merge)")),
] + [(f"config_{name}", (kind, f"option --{name}")) for name, kind in _OPTIONS])


# ------------------------------------------------------------------------------------------
# Values
# ------------------------------------------------------------------------------------------

def shortest_text(x):
    """The program's text of a number (core/text.cpp): the shortest %g, at least 6 digits, that
    reads back as exactly x ("0.8", "8", "1e-05")."""
    x = float(x)
    for digits in range(6, 18):
        s = "%.*g" % (digits, x)
        if float(s) == x:
            return s
    return "%.17g" % x


def as_text(value):
    """An attribute value as the program's text (str, bytes, numpy or Python numbers)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return shortest_text(value)
    return str(value)


def typed(name, value):
    """An attribute value as the Python value of its declared type (text of earlier files parsed;
    a value that does not parse stays text)."""
    kind = ATTRIBUTES.get(name, ("text", ""))[0]
    text = as_text(value)
    try:
        if kind in ("int64", "uint64"):
            return int(text)
        if kind == "float64":
            return float(text)
    except ValueError:
        return text
    if kind == "bool" and text in ("true", "false"):
        return text == "true"
    return text


class NotResults(Exception):
    """The path is not a readable reciprocity results file; the message says why."""


class Labelled:
    """A numpy array with named dimensions, their coordinates, units and a description."""

    def __init__(self, name, values, dims, coords, units="", description=""):
        self.name, self.values, self.dims = name, values, tuple(dims)
        self.coords = dict(coords)
        self.units, self.description = units, description

    shape = property(lambda self: self.values.shape)

    def __array__(self, dtype=None):
        return np.asarray(self.values, dtype=dtype)

    def __repr__(self):
        dims = ", ".join(f"{d}: {n}" for d, n in zip(self.dims, self.values.shape))
        return f"<Labelled {self.name} ({dims}) {self.values.dtype} [{self.units}]: {self.description}>"

    def isel(self, **where):
        """Select by position along named dimensions (an int drops the dimension)."""
        index, dims, coords = [], [], {}
        for d in self.dims:
            i = where.pop(d, slice(None))
            index.append(i)
            c = self.coords.get(d)
            if not np.isscalar(i) and not isinstance(i, (int, np.integer)):
                dims.append(d)
                if c is not None:
                    coords[d] = np.asarray(c)[i]
        if where:
            raise KeyError(f"no dimension {sorted(where)} in {self.dims}")
        return Labelled(self.name, self.values[tuple(index)], dims, coords, self.units, self.description)

    def sel(self, **where):
        """Select by coordinate value (a scalar drops the dimension, a list keeps it)."""
        positions = {}
        for d, v in where.items():
            c = np.asarray(self.coords[d])
            wanted = np.atleast_1d(v)
            pos = [int(np.flatnonzero(c == w)[0]) if np.any(c == w) else None for w in wanted]
            if None in pos:
                raise KeyError(f"{d} = {wanted[pos.index(None)]!r} is not a coordinate of {self.name}")
            positions[d] = pos[0] if np.isscalar(v) else pos
        return self.isel(**positions)

    def to_xarray(self):
        import xarray as xr
        return xr.DataArray(self.values, dims=self.dims, name=self.name.rsplit("/", 1)[-1],
                            coords={d: c for d, c in self.coords.items() if d in self.dims},
                            attrs={"units": self.units, "description": self.description})


# ------------------------------------------------------------------------------------------
# The file
# ------------------------------------------------------------------------------------------

def verify_digests(h5file, path="results file"):
    """Check every complete run's rows against its digest (/runs/digest, /runs/marginal_digest:
    the CRC-32 of the rows the dataset's attribute `rows` names, as little-endian float64, one
    after the other). Raises NotResults naming the first run that does not match: its file is
    damaged (a chunk damaged with its own checksum passes HDF5's Fletcher32 check, not this).
    Files without digests (before version 0.4) pass unchecked."""
    for digest, flag in (("runs/digest", "runs/complete"), ("runs/marginal_digest", "runs/marginal_complete")):
        if digest not in h5file or flag not in h5file:
            continue
        rows = [r.lstrip("/") for r in as_text(h5file[digest].attrs.get("rows", "")).split("\n") if r]
        stored = h5file[digest][...]
        done = h5file[flag][...].astype(bool)
        data = [h5file[r][...].astype("<f8") for r in rows]
        for s, q in zip(*np.nonzero(done & (stored != -1))):
            crc = 0
            for values in data:
                crc = zlib.crc32(np.ascontiguousarray(values[s, q]).tobytes(), crc)
            if crc != stored[s, q]:
                kind = "Marginal run" if "marginal" in digest else "run"
                raise NotResults(f'"{path}": {kind} (split {s}, seed {q}) does not match its digest (CRC-32 {crc} '
                                 f'of its rows, {stored[s, q]} recorded): the file is damaged')


def open_results(path, verify=True):
    """Open `path` read-only after checking it exists, is HDF5 and is a reciprocity results file,
    and (`verify`) that every complete run matches its digest (raises NotResults with a message
    naming the path otherwise)."""
    if not os.path.exists(path):
        raise NotResults(f'"{path}": no such file')
    if os.path.isdir(path):
        raise NotResults(f'"{path}": is a directory, not a results file')
    try:
        is_hdf5 = h5py.is_hdf5(path)
    except OSError as e:
        raise NotResults(f'"{path}": cannot read: {e}') from None
    if not is_hdf5:
        raise NotResults(f'"{path}": not an HDF5 file')
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise NotResults(f'"{path}": cannot open as HDF5 ({e}); is a job still writing it?') from None
    if as_text(f.attrs.get("format", "")) != FORMAT_MARKER:
        f.close()
        raise NotResults(f'"{path}": not a reciprocity results file (no format = "{FORMAT_MARKER}" attribute)')
    if verify:
        try:
            verify_digests(f, path)
        except OSError as e:  # a Fletcher32 checksum that fails
            f.close()
            raise NotResults(f'"{path}": reading its runs: {e}') from None
        except NotResults:
            f.close()
            raise
    return Results(path, f)


class Results:
    """An open results file: attributes (typed and as text), the configuration, labelled arrays."""

    def __init__(self, path, h5file):
        self.path, self.h5 = path, h5file
        self.attrs = {k: typed(k, v) for k, v in h5file.attrs.items() if np.ndim(v) == 0}
        self.text_attrs = {k: as_text(v) for k, v in h5file.attrs.items() if np.ndim(v) == 0}
        self.schema_version = int(self.attrs.get("schema_version", 1))
        self.config = {k[len("config_"):]: v for k, v in self.attrs.items() if k.startswith("config_")}
        self.config.setdefault("entities", "individual")  # files before --entities: one entity per individual

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.h5.close()

    def __contains__(self, path):
        return path.lstrip("/") in self.h5

    def present(self):
        """The declared datasets this file holds (paths without the leading /)."""
        return [d.path for d in DATASETS if d.path in self.h5]

    def values(self, path):
        """The whole dataset as a numpy array."""
        return self.h5[path.lstrip("/")][...]

    def dims_of(self, path):
        """Dimension names of a dataset: the file's own labels, else the schema's (earlier files;
        their /summary/single_run_* are along "run" as now)."""
        ds = self.h5[path.lstrip("/")]
        labels = tuple(d.label for d in ds.dims)
        if all(labels) and len(labels) == ds.ndim:
            return labels
        declared = DATASET.get(path.lstrip("/"))
        if declared is not None and len(declared.dims) == ds.ndim:
            return declared.dims
        return tuple(f"dim_{i}" for i in range(ds.ndim))

    def coords(self, dim, length=None):
        """Coordinates of dimension `dim` (None for a dimension without them): the file's own,
        else rebuilt as the program defines them."""
        home = DIMENSIONS.get(dim)
        if home is None or not home[1]:
            return None
        if home[0].lstrip("/") in self.h5:
            return self.h5[home[0].lstrip("/")][...]
        if dim == "individual":
            return self.h5["individuals/id"][...]
        if dim == "percentile":
            return np.array([50.0, 80.0, 95.0])
        if dim in ("run", "marginal_run"):  # earlier files: the complete runs, in order
            used = self.values("runs/complete").astype(bool).ravel()
            if dim == "marginal_run" and "runs/marginal_complete" in self.h5:
                used &= self.values("runs/marginal_complete").astype(bool).ravel()
            runs = np.flatnonzero(used)
            return runs if length is None or len(runs) == length else None
        return np.arange(length)

    def array(self, path):
        """The dataset at `path` as a Labelled array (values read whole)."""
        values = self.values(path)
        dims = self.dims_of(path)
        coords = {}
        for d, n in zip(dims, values.shape):
            c = self.coords(d, n)
            if c is not None:
                coords[d] = c
        ds = self.h5[path.lstrip("/")]
        declared = DATASET.get(path.lstrip("/"))
        units = as_text(ds.attrs["units"]) if "units" in ds.attrs else (declared.units if declared else "")
        description = as_text(ds.attrs["description"]) if "description" in ds.attrs else (
            declared.description if declared else "")
        return Labelled(path.lstrip("/"), values, dims, coords, units, description)

    def entities(self):
        """The entities of a file written with --entities (None otherwise): a dict with "names"
        (list), "sizes" (individuals per entity), and over the complete runs "matrix" [runs, E, E],
        "inflow", "outflow", "self" [runs, E]."""
        if "flows/entity/matrix" not in self.h5:
            return None
        attrs = self.h5.attrs
        names = as_text(attrs["entity_names"]).split("\n")
        sizes = [int(v) for v in as_text(attrs["entity_sizes"]).split()]
        used = self.values("runs/complete").astype(bool).ravel()
        E = len(names)
        out = {"names": names, "sizes": np.array(sizes)}
        out["matrix"] = self.values("flows/entity/matrix").reshape(-1, E, E)[used]
        for k in ("inflow", "outflow", "self"):
            out[k] = self.values(f"flows/entity/{k}").reshape(-1, E)[used]
        return out

    def to_xarray(self, group):
        """The datasets of `group` (e.g. "flows/tracin", "runs", "summary") as an xarray.Dataset
        with dimensions, coordinates, units and descriptions; works for files of every version."""
        import xarray as xr
        g = self.h5[group.strip("/")]
        coord_names = {v[0].rsplit("/", 1)[-1] for v in DIMENSIONS.values()}
        arrays = {}
        for name, obj in g.items():
            if isinstance(obj, h5py.Dataset) and not (name in coord_names and obj.attrs.get("CLASS") == b"DIMENSION_SCALE"):
                arrays[name] = self.array(f"{group.strip('/')}/{name}").to_xarray()
        return xr.Dataset(arrays, attrs={k: v for k, v in self.attrs.items()})
