"""The report reads the engine's figures (/summary) and asks the program only for a file without
a current summary."""
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np
import pytest
from conftest import TOOLS, incomplete_copy, run_program
from reciprocity_tools import report_data


def report(args, cwd, program=None):
    """tools/report with `args`; RECIPROCITY_PROGRAM replaced by `program` when given."""
    env = dict(os.environ)
    if program is not None:
        env["RECIPROCITY_PROGRAM"] = program
    return subprocess.run([sys.executable, os.path.join(TOOLS, "report"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True)


def test_the_figures_are_the_files_summary(small_file):
    res = report_data.load_results(small_file, "small", False)
    with h5py.File(small_file, "r") as f:
        for kind, p in (("tracin", ""), ("marginal", "marginal_")):
            st = report_data.flow_stats(res, kind)
            assert np.array_equal(st.mean_inflow, f[f"summary/{p}mean_inflow"][...])
            assert np.array_equal(st.snr_outflow, f[f"summary/{p}snr_outflow"][...], equal_nan=True)
            assert [s["alpha"] for s in st.single] == list(f[f"summary/{p}single_run_alpha"][...])
            assert st.expectation["correlation"] == f[f"summary/{p}correlation"][0]


def test_a_current_file_needs_no_program(small_file, tmp_path):
    """With no usable program a complete, summarised file is still reported: nothing recomputed."""
    proc = report(["--no-plots", small_file, "--out", "rep"], tmp_path, program=str(tmp_path / "none"))
    assert proc.returncode == 0, proc.stderr
    assert "temporary copy" not in proc.stderr


def test_a_stale_summary_is_the_programs_summary_of_the_runs(program, small_file, tmp_path):
    """Run (1, 1) made incomplete: the report's figures are the program's summary of a copy,
    equal to `reciprocity --summarize` of the altered file itself; the file is not written."""
    partial = incomplete_copy(small_file, tmp_path)
    res = report_data.load_results(partial, "partial", True)
    assert any("temporary copy" in n for n in res.notes)
    with h5py.File(partial, "r") as f:
        assert list(f["summary/run"][...]) == [0, 1, 2, 3]         # untouched: the stale summary
    run_program(program, "-q", "--summarize", partial)
    with h5py.File(partial, "r") as f:
        st = report_data.flow_stats(res, "tracin")
        assert list(f["summary/run"][...]) == [0, 1, 2]
        assert np.array_equal(st.mean_outflow, f["summary/mean_outflow"][...])
        assert [s["alpha"] for s in st.single] == list(f["summary/single_run_alpha"][...])
    proc = report(["--completed-only", "--no-plots", small_file.replace("small.h5", "x.h5"), "--out", "r"], tmp_path)
    assert proc.returncode == 2 and "no such file" in proc.stderr


def test_without_the_program_a_stale_summary_is_refused(small_file, tmp_path):
    partial = str(tmp_path / "partial.h5")
    shutil.copy(small_file, partial)
    with h5py.File(partial, "a") as f:
        del f["summary/marginal_snr_inflow"]
    proc = report(["--no-plots", partial, "--out", "rep"], tmp_path, program=str(tmp_path / "none"))
    assert proc.returncode == 2 and "reciprocity --summarize" in proc.stderr and "Traceback" not in proc.stderr


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
