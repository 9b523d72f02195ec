"""reciprocity_tools.program: finding the program, its --describe tables, a summary of a copy;
and the package found from an installed tree."""
import hashlib
import json
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np
import pytest
from conftest import TOOLS, incomplete_copy, run_program
from reciprocity_tools import program as tools_program


def test_describe_is_the_programs_json(program):
    for kind in ("schema", "options", "presets"):
        assert tools_program.describe(kind) == json.loads(run_program(program, "--describe", kind).stdout)


def test_an_unusable_program_is_said(tmp_path):
    env = dict(os.environ, RECIPROCITY_PROGRAM=str(tmp_path / "nothing"))
    code = "from reciprocity_tools import program\ntry:\n    program.executable()\nexcept program.ProgramMissing as e:\n" \
           "    print(e)\n"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert "RECIPROCITY_PROGRAM" in out and "is not an executable file" in out


def test_summarize_copy_leaves_the_file(program, small_file):
    before = hashlib.md5(open(small_file, "rb").read()).hexdigest()

    def read(copy):
        with h5py.File(copy, "r") as f:
            return float(f["summary/beta"][0]), f["summary/alpha"][0]
    beta, alpha = tools_program.summarize_copy(small_file, 0.5, read)
    assert beta == 0.5 and np.isfinite(alpha)
    assert hashlib.md5(open(small_file, "rb").read()).hexdigest() == before


def installed_tree(root, binary):
    """A tree as `cmake --install` lays it out: <root>/bin/reciprocity and the wrappers,
    <root>/lib/reciprocity/python/reciprocity_tools."""
    os.makedirs(os.path.join(root, "bin"))
    shutil.copy(binary, os.path.join(root, "bin", "reciprocity"))
    shutil.copytree(os.path.join(TOOLS, "reciprocity_tools"),
                    os.path.join(root, "lib", "reciprocity", "python", "reciprocity_tools"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    for tool in ("report", "gap", "clip", "knn", "tune"):
        shutil.copy(os.path.join(TOOLS, tool), os.path.join(root, "bin", tool))


def test_installed_tree_finds_package_and_program(program, small_file, tmp_path):
    root = str(tmp_path / "prefix")
    installed_tree(root, program)
    env = {k: v for k, v in os.environ.items() if k not in ("RECIPROCITY_PROGRAM", "PYTHONPATH", "BUILD_DIR")}
    env["PATH"] = "/usr/bin:/bin"
    where = subprocess.run([sys.executable, "-c", "from reciprocity_tools import program; print(program.executable())"],
                           env=dict(env, PYTHONPATH=os.path.join(root, "lib", "reciprocity", "python")),
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout.strip()
    assert os.path.samefile(where, os.path.join(root, "bin", "reciprocity"))
    # The installed wrapper and python3 -m, from elsewhere, on a file without a current summary
    # (it needs the installed program).
    partial = incomplete_copy(small_file, tmp_path)
    for cmd, extra in (([os.path.join(root, "bin", "report")], {}),
                       ([sys.executable, "-m", "reciprocity_tools", "report"],
                        {"PYTHONPATH": os.path.join(root, "lib", "reciprocity", "python")})):
        out = tmp_path / ("rep" + str(len(extra)))
        proc = subprocess.run(cmd + ["--completed-only", "--no-plots", partial, "--out", str(out)],
                              env=dict(env, **extra), cwd=tmp_path, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        assert "temporary copy" in proc.stderr and (out / "summary.csv").exists()


def test_the_wrappers_are_the_commands(tmp_path):
    for tool in ("report", "gap", "clip", "knn", "tune"):
        proc = subprocess.run([os.path.join(TOOLS, tool), "--help"], capture_output=True, text=True, cwd=tmp_path)
        assert proc.returncode == 0 and "usage: " + tool in proc.stdout, (tool, proc.stderr)
    main = subprocess.run([sys.executable, "-m", "reciprocity_tools", "--help"], capture_output=True, text=True)
    assert main.returncode == 0 and "report" in main.stdout and "entities" in main.stdout
    bad = subprocess.run([sys.executable, "-m", "reciprocity_tools", "nonsense"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown command" in bad.stderr


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
