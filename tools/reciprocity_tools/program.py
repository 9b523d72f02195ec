"""The `reciprocity` program, the one source of the facts the tools need.

`describe(kind)` is the JSON of `reciprocity --describe schema|options|presets` (the results file's
layout, the options and their types, the presets; docs/options.md); `summarize_copy(path, beta)`
is the engine's /summary of a results file, computed by `reciprocity --summarize` on a temporary
copy (the file itself is left untouched) for files whose own summary is missing or stale.

The program is found (`executable()`), in this order: $RECIPROCITY_PROGRAM; the one of an
installed tree (this package in <prefix>/lib/reciprocity/python, the program in <prefix>/bin);
the source tree's build ($BUILD_DIR, else <source>/build, this package being <source>/tools/...);
`reciprocity` on the PATH.
"""

import functools
import json
import os
import shutil
import subprocess
import tempfile

ENVIRONMENT = "RECIPROCITY_PROGRAM"
HERE = os.path.dirname(os.path.abspath(__file__))


class ProgramMissing(Exception):
    """The program could not be found or run; the message says what to do."""


def candidates():
    """Where the program is looked for, in order (paths; the first existing executable wins)."""
    installed = os.path.join(HERE, os.pardir, os.pardir, os.pardir, os.pardir, "bin", "reciprocity")
    source_root = os.path.dirname(os.path.dirname(HERE))
    build = os.environ.get("BUILD_DIR") or os.path.join(source_root, "build")
    return [os.path.normpath(installed), os.path.join(build, "reciprocity"), shutil.which("reciprocity")]


@functools.lru_cache(maxsize=None)
def executable():
    """The path of the program (ProgramMissing when none is found)."""
    chosen = os.environ.get(ENVIRONMENT)
    if chosen:
        if not (os.path.isfile(chosen) and os.access(chosen, os.X_OK)):
            raise ProgramMissing(f'${ENVIRONMENT} = "{chosen}" is not an executable file')
        return chosen
    for path in candidates():
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    raise ProgramMissing("the reciprocity program was not found (looked in " +
                         ", ".join(p for p in candidates() if p) + f" and on the PATH): build it (tools/build) "
                         f"or set ${ENVIRONMENT} to its path")


def run(args, timeout=600):
    """Run the program alone (one MPI process) with `args`; the completed process."""
    env = dict(os.environ)
    env.setdefault("OMPI_MCA_ess_singleton_isolated", "1")  # Open MPI: a lone process starts faster
    try:
        return subprocess.run([executable()] + list(args), capture_output=True, text=True, env=env, timeout=timeout)
    except OSError as e:
        raise ProgramMissing(f"cannot run {executable()}: {e}") from None


@functools.lru_cache(maxsize=None)
def describe(kind):
    """`reciprocity --describe KIND` (schema, options, presets) as a dict (cached per process)."""
    proc = run(["--describe", kind], timeout=120)
    if proc.returncode != 0:
        raise ProgramMissing(f"{executable()} --describe {kind} failed (exit {proc.returncode}): "
                             f"{proc.stderr.strip() or proc.stdout.strip()}")
    return json.loads(proc.stdout)


def declared_datasets():
    """{path without the leading /: the dataset's declaration} of the program's layout."""
    return {d["path"].lstrip("/"): d for d in describe("schema")["datasets"]}


def declared_attributes():
    """{root attribute: its declaration (type, description)} of the program's layout."""
    return {a["name"]: a for a in describe("schema")["attributes"]}


def result_options():
    """The options that determine the numbers: {name: declaration} (attribute, type, absent_value)."""
    return {o["attribute"][len("config_"):]: o for o in describe("options")["options"] if o["result"]}


def option_default(name):
    """The default of the program's option --name as text (None when it has none)."""
    return next(o["default"] for o in describe("options")["options"] if o["name"] == name)


def summarize_copy(path, beta, read):
    """`read(copy)` of a temporary copy of the results file `path` summarised by the program at
    `beta` (`reciprocity --summarize COPY --beta BETA`): the engine's figures of the file's complete
    runs, without writing to the file itself. ProgramMissing if the program fails."""
    with tempfile.TemporaryDirectory(prefix="reciprocity-summary-") as tmp:
        copy = os.path.join(tmp, "copy.h5")
        shutil.copyfile(path, copy)
        proc = run(["-q", "--summarize", copy, "--beta", repr(float(beta))])
        if proc.returncode != 0:
            message = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
            raise ProgramMissing(f"reciprocity --summarize of a copy failed (exit {proc.returncode}): "
                                 f"{message[-1] if message else ''}")
        return read(copy)
