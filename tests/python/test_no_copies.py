"""The Python tools hold no copy of the program's facts (issue 22): not of the results file's
layout, the option list, the engine's split hash or the reciprocity formula. Checked on the
source of every Python file of tools/ (the package and the wrappers):
  - no constant of the engine's hash (include/reciprocity/core/rng.hpp, read here), in any base;
  - no description of a dataset, dimension or root attribute, and no option's help text, of
    `reciprocity --describe` (a copied table carries them);
  - no literal collection naming 5 or more of the options that determine the numbers (an option
    list, such as the reader's table of config_ attributes) or 3 or more dimensions (a dataset's
    declared axes);
  - the metric functions (reciprocity, alpha at beta, correlation, negative fraction, percentile)
    defined in metrics.py only, and no ratio of a minimum to a maximum elsewhere.
"""
import ast
import glob
import os
import re

import pytest
from conftest import TOOLS
from reciprocity_tools import program as tools_program

ROOT = os.path.dirname(TOOLS)
WRAPPERS = ("report", "gap", "clip", "knn", "tune")
METRICS = {"reciprocity", "alpha_at_beta", "pearson", "negative_fraction", "percentile", "flow_figures"}


def sources():
    """{path: text} of every Python source of tools/."""
    paths = glob.glob(os.path.join(TOOLS, "**", "*.py"), recursive=True)
    paths += [os.path.join(TOOLS, w) for w in WRAPPERS]
    return {p: open(p).read() for p in paths}


def test_no_split_hash():
    rng = open(os.path.join(ROOT, "include", "reciprocity", "core", "rng.hpp")).read()
    constants = {int(h, 16) for h in re.findall(r"0x([0-9a-fA-F]{8,})ULL", rng)}
    assert len(constants) >= 4
    for path, text in sources().items():
        numbers = {int(h, 16) for h in re.findall(r"0x([0-9a-fA-F]+)", text)}
        numbers |= {int(d) for d in re.findall(r"\b\d{9,}\b", text)}
        assert not numbers & constants, f"{path}: a constant of the engine's hash"
        assert "mix64" not in text and "hash_key" not in text, path


def described_texts():
    schema, options = tools_program.describe("schema"), tools_program.describe("options")
    texts = [d["description"] for d in schema["datasets"] + schema["dimensions"] + schema["attributes"]]
    texts += [o["help"] for o in options["options"]]
    return [t for t in texts if len(t) >= 25]


def test_no_copy_of_the_described_tables(program):
    texts = described_texts()
    assert len(texts) > 100
    for path, text in sources().items():
        flat = " ".join(text.split())
        copied = [t for t in texts if t in flat]
        assert not copied, f"{path} repeats --describe's text: {copied[:2]}"


def literal_collections(text):
    """The string elements of every literal list, tuple, set and dict (keys) of a source."""
    for node in ast.walk(ast.parse(text)):
        items = node.keys if isinstance(node, ast.Dict) else getattr(node, "elts", None) \
            if isinstance(node, (ast.List, ast.Tuple, ast.Set)) else None
        if items:
            yield [i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)]


def test_no_option_list_or_declared_axes(program):
    options = set(tools_program.result_options())
    options |= {"config_" + o for o in options}
    dimensions = {d["name"] for d in tools_program.describe("schema")["dimensions"]}
    for path, text in sources().items():
        for strings in literal_collections(text):
            named = [s for s in strings if s in options]
            assert len(named) < 5, f"{path}: a list of options {named}"
            axes = [s for s in strings if s in dimensions]
            assert len(axes) < 3, f"{path}: declared axes {axes}"


@pytest.mark.parametrize("name", sorted(METRICS))
def test_metrics_defined_once(name):
    defined = [p for p, text in sources().items() if re.search(rf"^def {name}\(", text, re.M)]
    assert [os.path.basename(p) for p in defined] == ["metrics.py"], defined


def test_no_reciprocity_formula_elsewhere():
    for path, text in sources().items():
        if os.path.basename(path) != "metrics.py":
            assert not re.search(r"minimum\([^\n]*\)\s*/\s*[\w.]*maximum\(", text), path
