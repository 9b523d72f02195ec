"""The command line the tools share: results files, then --out DIR."""
import argparse


def files_parser(prog, description, metavar, files_help, out_help, out_required=False):
    """An argument parser of `files` (one or more) and --out DIR, for the command `prog`."""
    p = argparse.ArgumentParser(prog=prog, description=description,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="+", metavar=metavar, help=files_help)
    p.add_argument("--out", metavar="DIR", required=out_required, help=out_help)
    return p
