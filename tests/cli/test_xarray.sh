#!/usr/bin/env bash
# A real netCDF client reads the results file as labelled data: xarray with h5netcdf opens each
# group with named dimensions, the coordinates of split, seed and individual (the ids) and no
# phony dimensions; units and descriptions arrive as attributes; the reader's to_xarray gives
# the same. Skipped (77) where xarray or h5netcdf is absent (tools/install-deps installs them).
# Usage: test_xarray.sh <reciprocity binary> <shared data dir> <source dir>
/usr/bin/python3 -c "import xarray, h5netcdf" 2>/dev/null || { echo "skip: python3-xarray / python3-h5netcdf not installed"; exit 77; }
source "$(dirname "$0")/lib.sh" "$@"
if ! mpirun -n 2 --oversubscribe "$bin" -q --synthetic-users 20 --synthetic-items 15 --synthetic-ratings 300 \
    --splits 2 --seeds 3 --steps 10 --learning-rate 1.5 --marginal --save-split-mask --out x.h5 > x.log 2>&1 ||
   ! "$bin" -q --synthetic-users 20 --synthetic-items 15 --synthetic-ratings 300 --splits 3 --seeds 3 --steps 10 \
    --learning-rate 1.5 --marginal --save-split-mask --resume --out x.h5 >> x.log 2>&1; then
  echo "FAIL the engine did not run:"; cat x.log; exit 1
fi
check "xarray and the reader read the file as labelled data" pycheck readers.xarray_reads x.h5
finish
