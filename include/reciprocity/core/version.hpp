#pragma once

namespace reciprocity {
/// Program version (from CMake's project version).
const char* version();
/// `git describe` of the source tree at configure time, or "unknown".
const char* git_revision();
}  // namespace reciprocity
