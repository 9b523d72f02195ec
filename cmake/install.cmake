# `cmake --install build --prefix <prefix>` (tests/test_install.sh installs into a temporary prefix):
#   <prefix>/bin/reciprocity                   the program
#   <prefix>/bin/reciprocity-<tool>            report, gap, clip, knn: each runs the tool below
#   <prefix>/libexec/reciprocity/              the tools (tools/<tool>) with their Python modules
#                                              and packages (tools/**/*.py), side by side as in tools/,
#                                              so each finds them beside itself; for `python3 -m`,
#                                              put this directory on PYTHONPATH
#   <prefix>/share/reciprocity/jobs/           the Slurm scripts (jobs/; set RECIPROCITY=<prefix>/bin/reciprocity)
#   <prefix>/share/doc/reciprocity/            README.md, CHANGELOG.md, docs/, src/io/README.md (the results
#                                              file), tools/README.md, at their repository paths so links hold
# Not installed: the repository's own tools (build, install-deps, run-tests, quickstart, reproduce, tune,
# bench, slurm-local), which run or write inside a checkout.
include(GNUInstallDirs)
set(RECIPROCITY_INSTALL_TOOLS report gap clip knn)
set(_tools_dir ${CMAKE_INSTALL_LIBEXECDIR}/reciprocity)

install(TARGETS reciprocity RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

list(TRANSFORM RECIPROCITY_INSTALL_TOOLS PREPEND ${PROJECT_SOURCE_DIR}/tools/ OUTPUT_VARIABLE _tools)
install(PROGRAMS ${_tools} DESTINATION ${_tools_dir})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/tools/ DESTINATION ${_tools_dir}
  FILES_MATCHING PATTERN "*.py"
  PATTERN "benchmark" EXCLUDE PATTERN "__pycache__" EXCLUDE PATTERN "tests" EXCLUDE)

# bin/reciprocity-<tool>: a two-line script that runs libexec's tool, found from its own location
# (the prefix may be moved after installing).
file(RELATIVE_PATH _bin_to_tools /prefix/${CMAKE_INSTALL_BINDIR} /prefix/${_tools_dir})
foreach(_tool ${RECIPROCITY_INSTALL_TOOLS})
  set(_wrapper ${CMAKE_CURRENT_BINARY_DIR}/installed-tools/reciprocity-${_tool})
  file(WRITE ${_wrapper} "#!/bin/sh\n# tools/${_tool} of reciprocity ${PROJECT_VERSION}, installed in ${_tools_dir}.\n"
                         "exec \"$(dirname \"$(readlink -f \"$0\")\")/${_bin_to_tools}/${_tool}\" \"$@\"\n")
  install(PROGRAMS ${_wrapper} DESTINATION ${CMAKE_INSTALL_BINDIR})
endforeach()

install(DIRECTORY ${PROJECT_SOURCE_DIR}/jobs/ DESTINATION ${CMAKE_INSTALL_DATADIR}/reciprocity/jobs
  USE_SOURCE_PERMISSIONS)

set(_doc ${CMAKE_INSTALL_DOCDIR})  # share/doc/reciprocity
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/CHANGELOG.md DESTINATION ${_doc})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${_doc}/docs)
install(FILES ${PROJECT_SOURCE_DIR}/src/README.md DESTINATION ${_doc}/src)
install(FILES ${PROJECT_SOURCE_DIR}/src/io/README.md DESTINATION ${_doc}/src/io)
install(FILES ${PROJECT_SOURCE_DIR}/tools/README.md DESTINATION ${_doc}/tools)
