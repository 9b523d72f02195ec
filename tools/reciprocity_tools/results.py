"""Read a reciprocity results file as labelled arrays and a typed configuration.

    from reciprocity_tools import results as rr   # tools/ on sys.path (python3 -m from tools/, or PYTHONPATH)

    with rr.open_results("ml.h5") as f:
        f.config["learning-rate"]                 # 8.0, a float (files of any version)
        inflow = f.array("flows/tracin/inflow")   # Labelled: .values [S, R, N], .dims, .coords
        inflow.dims                               # ('split', 'seed', 'individual')
        inflow.coords["individual"]               # the individuals' original ids
        inflow.sel(individual=196).values         # [S, R] flows of the individual with id 196
        done = f.array("runs/complete").values.astype(bool)
        ds = f.to_xarray("flows/tracin")          # an xarray.Dataset (needs xarray)

The reader holds no copy of the layout. A file of the current version describes itself: every
dataset carries `description`, `units` and HDF5 dimension scales (its axes' names and
coordinates), numbers are stored as numbers. What a file does not say is asked of the program
(`reciprocity --describe`, program.py): the types of the configuration's attributes (switches
are the text "true"/"false"; an earlier file, with no `schema_version` attribute, stores numbers as
text), the options a file does not record (their `absent_value`), and the dimensions, units and
descriptions of an earlier file's datasets.

Needs numpy and h5py; xarray only for to_xarray().
"""

import os
import re
import zlib

import h5py
import numpy as np

from . import program

FORMAT_MARKER = "reciprocity results"  # the root attribute `format` of every results file


def as_text(value):
    """An attribute value as the program's text (str, bytes, numpy or Python numbers; a float as
    the shortest text that reads back as it, at least 6 digits, as the program spells numbers)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        for digits in range(6, 18):
            s = "%.*g" % (digits, value)
            if float(s) == value:
                return s
        return "%.17g" % value
    return str(value)


def typed(kind, value):
    """`value` as the Python value of the declared attribute type `kind` (text, bool, int64,
    uint64, float64): text of earlier files parsed; a value that does not parse stays text."""
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


def is_dimension_scale(ds):
    return as_text(ds.attrs.get("CLASS", "")) == "DIMENSION_SCALE"


class Results:
    """An open results file: attributes (as text, and typed), the configuration, labelled arrays."""

    def __init__(self, path, h5file):
        self.path, self.h5 = path, h5file
        self.text_attrs = {k: as_text(v) for k, v in h5file.attrs.items() if np.ndim(v) == 0}
        self.schema_version = int(self.text_attrs.get("schema_version", "1"))
        self._attrs = self._config = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.h5.close()

    def __contains__(self, path):
        return path.lstrip("/") in self.h5

    @property
    def attrs(self):
        """The root attributes as Python values of their declared types (the program's layout)."""
        if self._attrs is None:
            declared = program.declared_attributes()
            self._attrs = {k: typed(declared.get(k, {}).get("type", "text"), v)
                           for k, v in self.h5.attrs.items() if np.ndim(v) == 0}
        return self._attrs

    @property
    def config(self):
        """{option: typed value} of the options that determine the numbers: the file's config_*
        attributes, and for a result option the file does not record the value that stands for it
        (`absent_value` of `reciprocity --describe options`: its default, or its value before it
        was added, e.g. entities = individual)."""
        if self._config is None:
            config = {k[len("config_"):]: v for k, v in self.attrs.items() if k.startswith("config_")}
            later = {o["name"]: o for o in program.describe("options")["later_result_options"]}
            marginal = "runs/marginal_complete" in self.h5
            for name, option in program.result_options().items():
                if name in config or option["absent_value"] is None:
                    continue
                if later.get(name, {}).get("only_files_with_marginal") and not marginal:
                    continue  # not recorded because it does not apply
                config[name] = typed(option["attribute_type"], option["absent_value"])
            self._config = config
        return self._config

    def present(self):
        """The declared datasets this file holds (paths without the leading /)."""
        return [p for p in program.declared_datasets() if p in self.h5]

    def values(self, path):
        """The whole dataset as a numpy array."""
        return self.h5[path.lstrip("/")][...]

    def dims_of(self, path):
        """Dimension names of a dataset: the file's own labels, else the program's declaration
        (earlier files; their /summary/single_run_* are along "run" as now)."""
        ds = self.h5[path.lstrip("/")]
        labels = tuple(d.label for d in ds.dims)
        if all(labels) and len(labels) == ds.ndim:
            return labels
        declared = program.declared_datasets().get(path.lstrip("/"))
        if declared is not None and len(declared["dims"]) == ds.ndim:
            return tuple(declared["dims"])
        return tuple(f"dim_{i}" for i in range(ds.ndim))

    def coords(self, dim, length=None, path=None):
        """Coordinates of dimension `dim` (None for a dimension without them): those of the file's
        dimension scale (attached to `path`, or the dataset named `dim` at the root or in a group),
        else, in an earlier file, rebuilt as the program defines them."""
        scale = self._scale(dim, path)
        if scale is not None:
            only_named = as_text(scale.attrs.get("NAME", "")).startswith("This is a netCDF dimension")
            return None if only_named else scale[...]
        declared = {d["name"]: d for d in program.describe("schema")["dimensions"]}.get(dim)
        if declared is not None and not declared["coordinates"]:
            return None
        if dim == "individual":
            return self.values("individuals/id")
        if dim == "percentile" and path:  # /summary/discrepancy_percentiles_50_80_95: its name lists them
            return np.array([float(p) for p in re.findall(r"_(\d+)", path.rsplit("/", 1)[-1])])
        if dim in ("run", "marginal_run"):  # earlier files: the complete runs, in order
            used = self.values("runs/complete").astype(bool).ravel()
            if dim == "marginal_run" and "runs/marginal_complete" in self.h5:
                used &= self.values("runs/marginal_complete").astype(bool).ravel()
            runs = np.flatnonzero(used)
            return runs if length is None or len(runs) == length else None
        return None if length is None else np.arange(length)

    def _scale(self, dim, path):
        """The dimension scale of `dim`: attached to `path` along its axis labelled `dim`, or the
        dimension-scale dataset named `dim` (the file links each coordinate into its groups)."""
        if path:
            for axis in self.h5[path.lstrip("/")].dims:
                if axis.label == dim and len(axis):
                    return axis[0]
        groups = [self.h5] + [g for g in self.h5.values() if isinstance(g, h5py.Group)]
        for g in groups:
            if dim in g and isinstance(g[dim], h5py.Dataset) and is_dimension_scale(g[dim]):
                return g[dim]
        return None

    def array(self, path):
        """The dataset at `path` as a Labelled array (values read whole)."""
        values = self.values(path)
        dims = self.dims_of(path)
        coords = {}
        for d, n in zip(dims, values.shape):
            c = self.coords(d, n, path.lstrip("/"))
            if c is not None:
                coords[d] = c
        ds = self.h5[path.lstrip("/")]
        if "units" in ds.attrs and "description" in ds.attrs:
            units, description = as_text(ds.attrs["units"]), as_text(ds.attrs["description"])
        else:  # an earlier file: the program's declaration
            declared = program.declared_datasets().get(path.lstrip("/"), {})
            units, description = declared.get("units", ""), declared.get("description", "")
        return Labelled(path.lstrip("/"), values, dims, coords, units, description)

    def deployed(self):
        """[S, R, N] bool: where an individual has deployment examples in a run: a nonzero
        /runs/individual_deploy_loss or a nonzero TracIn inflow (an individual without deployment
        examples has both exactly 0, by construction). None for files before 0.2."""
        if "runs/individual_deploy_loss" not in self.h5:
            return None
        return (self.values("runs/individual_deploy_loss") != 0) | (self.values("flows/tracin/inflow") != 0)

    def entities(self):
        """The entities of a file written with --entities (None otherwise): a dict with "names"
        (list), "sizes" (individuals per entity), and over the complete runs "matrix" [runs, E, E],
        "inflow", "outflow", "self" [runs, E]."""
        if "flows/entity/matrix" not in self.h5:
            return None
        names = self.text_attrs["entity_names"].split("\n")
        sizes = [int(v) for v in self.text_attrs["entity_sizes"].split()]
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
        arrays = {}
        for name, obj in g.items():
            if isinstance(obj, h5py.Dataset) and not is_dimension_scale(obj):
                arrays[name] = self.array(f"{group.strip('/')}/{name}").to_xarray()
        return xr.Dataset(arrays, attrs=dict(self.attrs))
