"""Shared fixtures of the package's tests (tests/python; run by run_pytest.sh, CTest python.*)."""
import os
import shutil
import subprocess

import h5py

import pytest

TOOLS = os.path.normpath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "tools"))


@pytest.fixture(scope="session")
def program():
    """The program under test ($RECIPROCITY_PROGRAM, set by run_pytest.sh)."""
    path = os.environ.get("RECIPROCITY_PROGRAM")
    if not path or not os.access(path, os.X_OK):
        pytest.skip("RECIPROCITY_PROGRAM is not an executable (run through tests/python/run_pytest.sh)")
    return path


def run_program(program, *args, cwd=None):
    """The program alone (one process), arguments `args`; its completed process (checked)."""
    return subprocess.run([program, *args], cwd=cwd, capture_output=True, text=True, check=True)


@pytest.fixture(scope="session")
def small_file(program, tmp_path_factory):
    """A synthetic results file: 2 splits x 2 seeds of 20 users, Marginal flows, split masks."""
    d = tmp_path_factory.mktemp("small")
    path = str(d / "small.h5")
    run_program(program, "-q", "--synthetic-users", "20", "--synthetic-items", "15", "--synthetic-ratings", "300",
                "--splits", "2", "--seeds", "2", "--steps", "10", "--learning-rate", "1.5", "--marginal",
                "--save-split-mask", "--out", path)
    return path


def incomplete_copy(path, directory):
    """A copy of the results file `path` in `directory` whose run (1, 1) is flagged incomplete
    (its /summary, of every run, is then not that of the complete runs)."""
    copy = os.path.join(str(directory), "partial.h5")
    shutil.copy(path, copy)
    with h5py.File(copy, "a") as f:
        c = f["runs/complete"][...]
        c[1, 1] = 0
        f["runs/complete"][...] = c
    return copy
