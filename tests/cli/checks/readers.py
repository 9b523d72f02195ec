"""The Python tools' reader (tools/reciprocity_tools/results.py) and netCDF readers on files of
the program (tests/cli/test_xarray.sh, test_entities.sh, test_checksums.sh,
test_independent_batches.sh)."""
import h5py
import numpy as np
from reciprocity_tools import gap
from reciprocity_tools import results as rr

from common import Claims


def xarray_reads(path):
    """xarray (h5netcdf) opens each group with named dimensions, the coordinates of split, seed
    and individual (the ids), no phony dimensions, units and descriptions; the reader's
    to_xarray gives the same (the file: 3 splits x 3 seeds of 20 individuals, with Marginal)."""
    import xarray as xr
    claim = Claims()
    ids = h5py.File(path, "r")["individuals/id"][...]
    # phony_dims unset: h5netcdf refuses a dataset without dimension scales.
    ds = xr.open_dataset(path, group="flows/tracin", engine="h5netcdf")
    claim(ds.inflow.dims == ("split", "seed", "individual"), f"flows/tracin: inflow dims {ds.inflow.dims}")
    claim(dict(ds.sizes) == {"split": 3, "seed": 3, "individual": 20},
          f"sizes {dict(ds.sizes)} (grown by --resume to 3 splits)")
    claim(set(ds.coords) == {"split", "seed", "individual"}, f"coordinates {sorted(ds.coords)}")
    claim(list(ds.split.values) == [0, 1, 2] and list(ds.seed.values) == [0, 1, 2],
          "split and seed coordinates are the indices")
    claim(np.array_equal(ds.individual.values, ids), "the individual coordinate is the ids")
    claim(not any(d.startswith("phony") for d in ds.dims), f"no phony dimensions: {list(ds.dims)}")
    claim(ds.inflow.attrs.get("units") == "loss" and "inflow" in ds.inflow.attrs.get("description", ""),
          f"units and description: {ds.inflow.attrs}")
    one = ds.inflow.sel(individual=ids[3], split=1)
    claim(one.dims == ("seed",), "selection by coordinate")
    for group in ("flows/marginal", "runs", "splits", "summary", "individuals", None):
        g = xr.open_dataset(path, group=group, engine="h5netcdf")
        claim(not any(str(d).startswith("phony") for d in g.dims), f"{group or '/'}: dimensions {dict(g.sizes)}")
    runs = xr.open_dataset(path, group="runs", engine="h5netcdf")
    claim(runs.deploy_loss.dims == ("split", "seed", "iterate") and runs.train_loss.dims == ("split", "seed", "step"),
          "runs: losses along step and iterate")
    summary = xr.open_dataset(path, group="summary", engine="h5netcdf")
    claim(summary.snr_inflow.dims == ("individual",) and summary.snr_inflow.size == 20,
          "summary: per individual, length N")
    claim(list(summary.run.values) == list(range(9)), f"summary: single-run figures along run {summary.run.values}")
    with rr.open_results(path) as f:
        mine = f.to_xarray("flows/tracin")
        claim(mine.inflow.dims == ds.inflow.dims and np.array_equal(mine.inflow.values, ds.inflow.values) and
              np.array_equal(mine.individual.values, ds.individual.values), "the reader's to_xarray equals xarray's")
    return claim.holds


def entity_matrix(one, three):
    """The reader's entities() of a file with --entities occupation (30 users, u % 4 gives the
    occupation): names and sizes, 1 rank = 3 ranks, the matrix's row sums minus the diagonal are
    the outflows, column sums minus the diagonal the inflows, the diagonal the self-influence,
    the total the individuals' outflows and self-influence; the matrix's dimensions."""
    with rr.open_results(one) as a, rr.open_results(three) as b:
        ea, eb = a.entities(), b.entities()
        assert ea["names"] == ["artist", "engineer", "other", "student"], ea["names"]
        assert list(ea["sizes"]) == [8, 8, 7, 7], ea["sizes"]  # u % 4: 2 artist, 1 engineer, 3 other, 0 student
        scale = np.abs(ea["matrix"]).max()
        assert scale > 0
        assert np.abs(ea["matrix"] - eb["matrix"]).max() <= 1e-9 * scale, "1 vs 3 ranks"
        for r in range(ea["matrix"].shape[0]):
            M = ea["matrix"][r]
            d = np.diag(M)
            assert np.allclose(M.sum(1) - d, ea["outflow"][r], rtol=0, atol=1e-12 * scale)
            assert np.allclose(M.sum(0) - d, ea["inflow"][r], rtol=0, atol=1e-12 * scale)
            assert np.allclose(d, ea["self"][r], rtol=0, atol=1e-12 * scale)
            total = a.values("flows/tracin/outflow")[r, 0].sum() + a.values("flows/tracin/self")[r, 0].sum()
            assert abs(M.sum() - total) <= 1e-9 * max(abs(total), scale), (M.sum(), total)
        assert a.array("flows/entity/matrix").dims == ("split", "seed", "entity", "deployment_entity")
    return True


def refuses_digest(path):
    """The reader refuses the file: a run does not match its digest."""
    try:
        rr.open_results(path)
    except rr.NotResults as e:
        print("    " + str(e))
        return "does not match its digest" in str(e)
    return False


def gap_falls(full_path, single_path):
    """The inflow/outflow gap (reciprocity_tools.gap) of 256 runs of each schedule: at R = 64
    single pass < 0.85 x full batch; the single pass falls (R 64 < 0.5 x R 8); full batch levels
    off (R 128 > 0.65 x R 32)."""
    curve = {}
    for name, path in (("random", full_path), ("single-pass", single_path)):
        inflow, outflow, batches = gap.read_flows(path)
        assert inflow.shape[0] == 256, f"{name}: {inflow.shape[0]} complete runs"
        assert batches == name, batches
        curve[name] = {R: g for R, _, g, _ in gap.gap_curve(inflow, outflow)}
    full, single = curve["random"], curve["single-pass"]
    print("    R:      " + " ".join(f"{R:>7}" for R in sorted(full)))
    print("    full:   " + " ".join(f"{full[R]:7.4f}" for R in sorted(full)))
    print("    single: " + " ".join(f"{single[R]:7.4f}" for R in sorted(single)))
    claim = Claims()
    claim(single[64] < 0.85 * full[64], f"R = 64: single pass {single[64]:.4f} < 0.85 x full batch {full[64]:.4f}")
    claim(single[64] < 0.5 * single[8], f"single pass falls with runs: {single[64]:.4f} (R 64) < 0.5 x {single[8]:.4f} "
          "(R 8)")
    claim(full[128] > 0.65 * full[32], f"full batch levels off: {full[128]:.4f} (R 128) > 0.65 x {full[32]:.4f} (R 32)")
    return claim.holds
