"""reciprocity_tools: the Python tools of the reciprocity program (tools/README.md).

Run `python3 -m reciprocity_tools <command> ...` with tools/ (source tree) or
<prefix>/lib/reciprocity/python (installed) on the Python path; the executables tools/report,
tools/gap, tools/clip, tools/knn and tools/tune are thin wrappers of the same commands.

Modules:
  results       read a results file: labelled arrays, the typed configuration (import this)
  program       the reciprocity program: its --describe tables, --summarize of a copy
  metrics       reciprocity, alpha at beta, correlation, negative fractions, percentiles: the one
                Python implementation, for what the file's /summary does not hold
  report_data   what the report reads of a file (the engine's /summary); tables, style, figures
                the report's table and figures; report its command line
  entities, arrival, gap, clip, knn, paper, paper_figures, tune
                the figures and tables of the regimes, the paper's numbers, tuning a preset

The package holds no copy of the results file's layout, of the option list or of the engine's
split function: it reads them from the file itself and from `reciprocity --describe`.
"""
