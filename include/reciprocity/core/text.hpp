#pragma once
#include <string>

namespace reciprocity {

/// The shortest text, with at least 6 significant digits (printf %g), that reads back as
/// exactly `v` ("0.8", not "0.80000000000000004"). The one spelling of a number as text: option
/// values, the `configuration` attribute and numeric attributes read back as text use it, so two
/// texts are equal exactly when the numbers are.
std::string shortest_text(double v);

}  // namespace reciprocity
