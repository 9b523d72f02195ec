#!/usr/bin/env bash
# A real netCDF client reads the results file as labelled data: xarray with h5netcdf opens each
# group with named dimensions, the coordinates of split, seed and individual (the ids) and no
# phony dimensions; units and descriptions arrive as attributes; the reader's to_xarray gives
# the same. Skipped (77) where xarray or h5netcdf is absent (tools/install-deps installs them).
# Usage: test_xarray.sh <reciprocity binary> <shared data dir> <source dir>
set -u
bin=$(realpath "$1")
src=$(realpath "$3")
py=/usr/bin/python3
"$py" -c "import xarray, h5netcdf" 2>/dev/null || { echo "skip: python3-xarray / python3-h5netcdf not installed"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
if ! mpirun -n 2 --oversubscribe "$bin" -q --synthetic-users 20 --synthetic-items 15 --synthetic-ratings 300 \
    --splits 2 --seeds 3 --steps 10 --learning-rate 1.5 --marginal --save-split-mask --out x.h5 > x.log 2>&1 ||
   ! "$bin" -q --synthetic-users 20 --synthetic-items 15 --synthetic-ratings 300 --splits 3 --seeds 3 --steps 10 \
    --learning-rate 1.5 --marginal --save-split-mask --resume --out x.h5 >> x.log 2>&1; then
  echo "FAIL the engine did not run:"; cat x.log; exit 1
fi
TOOLS="$src/tools" "$py" - x.h5 <<'EOF'
import os, sys
import h5py, numpy as np, xarray as xr
sys.path.insert(0, os.environ["TOOLS"])
import reciprocity_results as rr
path = sys.argv[1]
bad = 0
def check(ok, what):
    global bad
    print(("ok   " if ok else "FAIL ") + what)
    bad += not ok
ids = h5py.File(path, "r")["individuals/id"][...]
# phony_dims unset: h5netcdf refuses a dataset without dimension scales.
ds = xr.open_dataset(path, group="flows/tracin", engine="h5netcdf")
check(ds.inflow.dims == ("split", "seed", "individual"), f"flows/tracin: inflow dims {ds.inflow.dims}")
check(dict(ds.sizes) == {"split": 3, "seed": 3, "individual": 20}, f"sizes {dict(ds.sizes)} (grown by --resume to 3 splits)")
check(set(ds.coords) == {"split", "seed", "individual"}, f"coordinates {sorted(ds.coords)}")
check(list(ds.split.values) == [0, 1, 2] and list(ds.seed.values) == [0, 1, 2], "split and seed coordinates are the indices")
check(np.array_equal(ds.individual.values, ids), "the individual coordinate is the ids")
check(not any(d.startswith("phony") for d in ds.dims), f"no phony dimensions: {list(ds.dims)}")
check(ds.inflow.attrs.get("units") == "loss" and "inflow" in ds.inflow.attrs.get("description", ""),
      f"units and description: {ds.inflow.attrs}")
one = ds.inflow.sel(individual=ids[3], split=1)
check(one.dims == ("seed",), "selection by coordinate")
for group in ("flows/marginal", "runs", "splits", "summary", "individuals", None):
    g = xr.open_dataset(path, group=group, engine="h5netcdf")
    check(not any(str(d).startswith("phony") for d in g.dims), f"{group or '/'}: dimensions {dict(g.sizes)}")
runs = xr.open_dataset(path, group="runs", engine="h5netcdf")
check(runs.deploy_loss.dims == ("split", "seed", "iterate") and runs.train_loss.dims == ("split", "seed", "step"),
      "runs: losses along step and iterate")
summary = xr.open_dataset(path, group="summary", engine="h5netcdf")
check(summary.snr_inflow.dims == ("individual",) and summary.snr_inflow.size == 20, "summary: per individual, length N")
check(list(summary.run.values) == list(range(9)), f"summary: single-run figures along run {summary.run.values}")
with rr.open_results(path) as f:
    mine = f.to_xarray("flows/tracin")
    check(mine.inflow.dims == ds.inflow.dims and np.array_equal(mine.inflow.values, ds.inflow.values) and
          np.array_equal(mine.individual.values, ds.individual.values), "the reader's to_xarray equals xarray's")
sys.exit(1 if bad else 0)
EOF
