"""Files of an earlier version against files of this one (tests/cli/test_previous_version.sh)."""
import h5py
import numpy as np
from reciprocity_tools import program
from reciprocity_tools import results as rr


def compare_files(a_path, b_path, *groups):
    """Every dataset both files hold (under `groups`, if given) is equal, NaN where NaN; every
    declared dataset of a is in b (but the run digests, which earlier files lack); the options'
    attributes and the shape attributes are equal as text. At least 20 datasets compared."""
    groups = tuple(groups)

    def datasets(f):
        out = {}

        def visit(n, o):
            if isinstance(o, h5py.Dataset) and (not groups or n.startswith(groups)):
                out[n] = o
        f.visititems(visit)
        return out
    bad = []
    declared = program.declared_datasets()
    with h5py.File(a_path, "r") as a, h5py.File(b_path, "r") as b:
        A, B = datasets(a), datasets(b)
        common = sorted(set(A) & set(B))
        for n in common:
            x, y = A[n][...], B[n][...]
            if x.shape != y.shape or not np.array_equal(x, y, equal_nan=x.dtype.kind == "f"):
                bad.append(f"/{n} differs")
        # An earlier file keeps no run digests (jobs/README.md, "Digests": files from 0.4 on have them).
        missing = [n for n in A if n not in B and n in declared
                   and declared[n]["presence"] not in ("digest", "marginal_digest")]
        bad += [f"/{n} missing in {b_path}" for n in missing]
    with rr.open_results(a_path) as a, rr.open_results(b_path) as b:
        keys = [k for k in a.text_attrs if k.startswith("config_") or k in ("task", "splits", "seeds", "steps",
                                                                              "individuals")]
        bad += [f"attribute {k}: {a.text_attrs[k]!r} vs {b.text_attrs.get(k)!r}" for k in keys
                if a.text_attrs[k] != b.text_attrs.get(k)]
    for line in bad:
        print("    " + line)
    print(f"    compared {len(common)} datasets and {len(keys)} attributes of {a_path} and {b_path}")
    return not bad and len(common) >= 20


def describes_itself(path):
    """Every dataset has a description, units, labelled dimensions and (not a scale itself) scales
    attached; the layout version is the program's; numbers are numbers."""
    bad = []
    with h5py.File(path, "r") as f:
        def visit(name, o):
            if isinstance(o, h5py.Dataset):
                if "description" not in o.attrs or "units" not in o.attrs or not all(d.label for d in o.dims):
                    bad.append(name)
                elif o.attrs.get("CLASS") != b"DIMENSION_SCALE" and not all(len(d) for d in o.dims):
                    bad.append(name + " (no scale)")
        f.visititems(visit)
        version = program.describe("schema")["schema_version"]
        if f.attrs.get("schema_version") != version or not isinstance(f.attrs["config_learning-rate"], float):
            bad.append(f"schema_version {f.attrs.get('schema_version')} (the program's: {version}), learning rate "
                       f"{f.attrs['config_learning-rate']!r}")
    if bad:
        print("    not described:", bad)
    return not bad


def reader_labels_old(old, new):
    """The reader gives the old file (version 1) the configuration, dimensions, units,
    descriptions, coordinates and values of the new one (the program's version)."""
    with rr.open_results(old) as o, rr.open_results(new) as n:
        assert o.schema_version == 1 and n.schema_version == program.describe("schema")["schema_version"], \
            (o.schema_version, n.schema_version)
        assert o.config == n.config, (o.config, n.config)
        assert o.config["learning-rate"] == 1.5 and o.config["steps"] == 10 and o.config["marginal"] is True, o.config
        for path in ("flows/tracin/inflow", "runs/deploy_loss", "splits/train_mask", "summary/single_run_alpha",
                     "summary/marginal_snr_inflow", "summary/discrepancy_percentiles_50_80_95", "individuals/id"):
            a, b = o.array(path), n.array(path)
            assert a.dims == b.dims, (path, a.dims, b.dims)
            assert a.units == b.units and a.description == b.description, path
            assert set(a.coords) == set(b.coords), (path, set(a.coords), set(b.coords))
            for d in a.coords:
                assert np.array_equal(a.coords[d], b.coords[d]), (path, d)
            assert np.array_equal(a.values, b.values, equal_nan=True), path
        x = o.array("flows/tracin/inflow").sel(individual=3, split=1)
        assert x.dims == ("seed",) and x.values.shape == (2,)
    return True
