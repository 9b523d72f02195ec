# Writes OUTPUT from INPUT (src/version.cpp.in) with the program's VERSION and the git revision of
# SOURCE_DIR (`git describe --always --dirty --abbrev=12`; "unknown" outside a git checkout or
# without git). Run at every build by the target reciprocity_version (src/CMakeLists.txt);
# configure_file leaves OUTPUT untouched when its text is unchanged, so nothing is rebuilt then.
#   cmake -DSOURCE_DIR=... -DGIT_EXECUTABLE=... -DVERSION=... -DINPUT=... -DOUTPUT=... -P version.cmake
set(PROJECT_VERSION "${VERSION}")
set(RECIPROCITY_GIT_REVISION "unknown")
if(GIT_EXECUTABLE AND EXISTS "${SOURCE_DIR}/.git")
  execute_process(COMMAND "${GIT_EXECUTABLE}" describe --always --dirty --abbrev=12
    WORKING_DIRECTORY "${SOURCE_DIR}" OUTPUT_VARIABLE _revision RESULT_VARIABLE _status
    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(_status EQUAL 0 AND NOT _revision STREQUAL "")
    set(RECIPROCITY_GIT_REVISION "${_revision}")
  endif()
endif()
configure_file("${INPUT}" "${OUTPUT}" @ONLY)
