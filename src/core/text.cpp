#include "reciprocity/core/text.hpp"

#include <sstream>

namespace reciprocity {

std::string shortest_text(double v) {
  for (int digits = 6; digits <= 17; ++digits) {
    std::ostringstream s;
    s.precision(digits);
    s << v;
    try {
      if (std::stod(s.str()) == v) return s.str();
    } catch (const std::exception&) {  // out of range: subnormal, infinite
      break;
    }
  }
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

}  // namespace reciprocity
