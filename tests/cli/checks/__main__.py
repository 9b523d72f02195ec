"""python3 tests/cli/checks MODULE.CHECK [ARG...]: one named check of a CLI test.

The Python of the CLI tests lives here, one module per subject (layout.py: the results file
against the program's declared layout; summary.py: the engine's figures; report.py: the report;
files.py: making and altering test files; ...). A check is a function of its string arguments
that prints an "ok   ..." or "FAIL ..." line per claim and returns True when every claim holds
(False otherwise), or an exit status. tests/cli/lib.sh's `pycheck MODULE.CHECK ARG...` runs one;
lib.sh puts the tools' package (tools/reciprocity_tools) on PYTHONPATH and the program under test
in $RECIPROCITY_PROGRAM.
"""
import importlib
import sys


def main(argv):
    if not argv or "." not in argv[0]:
        print(__doc__, file=sys.stderr)
        return 2
    module, name = argv[0].split(".", 1)
    result = getattr(importlib.import_module(module), name)(*argv[1:])
    if type(result).__name__ == "bool_":  # numpy's
        result = bool(result)
    if isinstance(result, bool):
        return 0 if result else 1
    if isinstance(result, int):
        return result
    print(f"checks: {argv[0]} returned {result!r}, not a verdict", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
