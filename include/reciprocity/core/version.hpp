#pragma once

namespace reciprocity {
/// Program version (from CMake's project version).
const char* version();
/// `git describe --always --dirty` of the source tree when the program was last built, or "unknown".
const char* git_revision();
}  // namespace reciprocity
