#pragma once
// Text helpers shared by the lock's record (record.cpp) and the lock itself (lock.cpp).
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace reciprocity::lock::text {
inline constexpr const char* kFirstLine = "reciprocity lock";

inline std::string trim(const std::string& s) {
  const auto a = s.find_first_not_of(" \t\r");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t\r") - a + 1);
}

inline bool parse_ll(const std::string& s, long long& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || end != s.c_str() + s.size()) return false;
  out = v;
  return true;
}

inline std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", s < 0 ? 0.0 : s);
  return buf;
}

}  // namespace reciprocity::lock::text
