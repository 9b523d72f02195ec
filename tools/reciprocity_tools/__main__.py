"""python3 -m reciprocity_tools <command> [arguments]: the tools of the reciprocity program.

Commands (each takes --help):
  report     tables and figures of results files (tools/report)
  tune       find a preset's operating point (tools/tune)
  gap        the inflow/outflow gap against the runs averaged (tools/gap)
  clip       reciprocity against the clipping norm (tools/clip)
  knn        k nearest neighbours: flows against isolation (tools/knn)
  entities   the entity table and figures of --entities files
  describe   print `reciprocity --describe schema|options|presets` as the tools read it
"""
import importlib
import json
import sys

COMMANDS = ("report", "tune", "gap", "clip", "knn", "entities", "describe")


def describe(argv):
    """The program's table KIND (schema, options, presets) as the package reads it (JSON)."""
    from . import program
    if len(argv) != 1 or argv[0] not in ("schema", "options", "presets"):
        print("usage: python3 -m reciprocity_tools describe schema|options|presets", file=sys.stderr)
        return 2
    try:
        print(json.dumps(program.describe(argv[0]), indent=2))
    except program.ProgramMissing as e:
        print(f"describe: {e}", file=sys.stderr)
        return 1
    return 0


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"reciprocity_tools: unknown command {command!r}; choose one of {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    if command == "describe":
        return describe(rest)
    try:
        module = importlib.import_module(f"{__package__}.{command}")
    except ImportError as e:  # numpy, h5py or matplotlib missing: a message, no traceback
        print(f"{command}: error: {e.name} is missing: install the Debian packages python3-numpy python3-h5py "
              "python3-matplotlib", file=sys.stderr)
        return 1
    return module.main(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
