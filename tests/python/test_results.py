"""The reader (reciprocity_tools.results) on a file the program writes."""
import os
import shutil

import h5py
import numpy as np
import pytest
from reciprocity_tools import program
from reciprocity_tools import results as rr


def test_configuration_is_typed_and_complete(small_file):
    with rr.open_results(small_file) as f:
        c = f.config
        assert c["learning-rate"] == 1.5 and isinstance(c["learning-rate"], float)
        assert c["steps"] == 10 and isinstance(c["steps"], int)
        assert c["marginal"] is True and c["save-split-mask"] is True and c["csv-individual"] is False
        assert c["seed"] == 0 and c["rank"] == 8
        # Options the file does not record (they do not apply or are the default): --describe's value.
        assert "config_batches" not in f.h5.attrs and c["batches"] == "random"
        assert "config_entities" not in f.h5.attrs and c["entities"] == "individual"
        assert c["marginal-step"] == "keep"        # recorded: a file with Marginal flows
        declared = program.result_options()
        assert set(c) <= set(declared)
        always = {n for n, o in declared.items() if o["recorded"] == "always"}
        assert always - {"synthetic-users", "synthetic-items", "synthetic-ratings"} <= set(c)


def test_arrays_are_labelled_as_the_file_says(small_file):
    with rr.open_results(small_file) as f, h5py.File(small_file, "r") as h:
        a = f.array("flows/tracin/inflow")
        assert a.dims == ("split", "seed", "individual") and a.shape == (2, 2, 20)
        assert np.array_equal(a.coords["individual"], h["individuals/id"][...])
        assert list(a.coords["split"]) == [0, 1] and list(a.coords["seed"]) == [0, 1]
        assert a.units == "loss" and a.description == h["flows/tracin/inflow"].attrs["description"]
        one = a.sel(individual=int(a.coords["individual"][3]), split=1)
        assert one.dims == ("seed",) and np.array_equal(one.values, h["flows/tracin/inflow"][1, :, 3])
        assert f.array("splits/train_mask").dims == ("split", "example")
        assert "example" not in f.array("splits/train_mask").coords   # an axis without coordinates
        p = f.array("summary/discrepancy_percentiles_50_80_95")
        assert list(p.coords["percentile"]) == [50, 80, 95]
        s = f.array("summary/single_run_alpha")
        assert s.dims == ("run",) and list(s.coords["run"]) == [0, 1, 2, 3]
        declared = program.declared_datasets()
        for path in f.present():
            assert f.dims_of(path) == tuple(declared[path]["dims"]), path


def test_refuses_what_is_not_a_results_file(tmp_path):
    (tmp_path / "text.h5").write_text("not HDF5")
    with h5py.File(tmp_path / "other.h5", "w") as g:
        g["x"] = np.arange(3)
    for path, why in ((tmp_path / "none.h5", "no such file"), (tmp_path, "is a directory"),
                      (tmp_path / "text.h5", "not an HDF5 file"),
                      (tmp_path / "other.h5", "not a reciprocity results file")):
        with pytest.raises(rr.NotResults, match=why):
            rr.open_results(str(path))


def test_a_changed_row_does_not_match_its_digest(small_file, tmp_path):
    copy = str(tmp_path / "changed.h5")
    shutil.copy(small_file, copy)
    with h5py.File(copy, "a") as g:
        g["flows/tracin/outflow"][1, 0, 5] += 1e-9
    with pytest.raises(rr.NotResults, match=r"run \(split 1, seed 0\) does not match its digest"):
        rr.open_results(copy)
    with rr.open_results(copy, verify=False):
        pass


def test_to_xarray(small_file):
    pytest.importorskip("xarray")
    with rr.open_results(small_file) as f:
        ds = f.to_xarray("flows/tracin")
        assert ds.inflow.dims == ("split", "seed", "individual")
        assert "individual" not in ds.data_vars            # a coordinate, not a variable
        assert ds.inflow.attrs["units"] == "loss"


def test_values_as_text():
    assert rr.as_text(np.float64(0.8)) == "0.8" and rr.as_text(8.0) == "8" and rr.as_text(1e-05) == "1e-05"
    assert rr.as_text(b"x") == "x" and rr.as_text(np.int64(3)) == "3" and rr.as_text(True) == "true"
    assert rr.typed("float64", "0.5") == 0.5 and rr.typed("bool", "false") is False
    assert rr.typed("int64", "x") == "x"          # does not parse: stays text
    assert os.path.basename(rr.__file__) == "results.py"
