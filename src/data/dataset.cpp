#include "reciprocity/data/dataset.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "reciprocity/core/error.hpp"

namespace reciprocity::data {

namespace {

[[noreturn]] void fail(const std::string& source, const std::string& what) {
  throw DataError("checking data set " + source + ": " + what);
}

}  // namespace

void Dataset::validate() const {
  const std::size_t m = size();
  if (m == 0) fail(source, "the data set has no examples");
  if (individual.size() != m) {
    fail(source, "inconsistent sizes: " + std::to_string(individual.size()) +
                     " individual indices for " + std::to_string(m) + " labels");
  }
  if (num_individuals() == 0) fail(source, "no individuals but " + std::to_string(m) + " examples");
  if (task == Task::Recommender) {
    if (item.size() != m) {
      fail(source, "inconsistent sizes: " + std::to_string(item.size()) + " item indices for " +
                       std::to_string(m) + " labels");
    }
    if (num_items() == 0) fail(source, "no items but " + std::to_string(m) + " ratings");
  } else {
    if (num_features <= 0) {
      fail(source, "a " + std::string(to_string(task)) + " data set needs features (num_features " +
                       std::to_string(num_features) + ")");
    }
    const std::size_t expected = m * static_cast<std::size_t>(num_features);
    if (features.size() != expected) {
      fail(source, "inconsistent sizes: " + std::to_string(features.size()) + " feature values for " +
                       std::to_string(m) + " examples x " + std::to_string(num_features) +
                       " features");
    }
    if (!item.empty() && item.size() != m) {
      fail(source, "inconsistent sizes: " + std::to_string(item.size()) + " item indices for " +
                       std::to_string(m) + " labels");
    }
  }

  const auto n_ind = static_cast<std::int64_t>(num_individuals());
  const auto n_items = static_cast<std::int64_t>(num_items());
  for (std::size_t e = 0; e < m; ++e) {
    const std::int64_t i = individual[e];
    if (i < 0 || i >= n_ind) {
      fail(source, "example " + std::to_string(e) + ": individual " + std::to_string(i) +
                       " out of range [0, " + std::to_string(n_ind) + ")");
    }
    if (!item.empty()) {
      const std::int64_t j = item[e];
      if (j < 0 || j >= n_items) {
        fail(source, "example " + std::to_string(e) + ": item " + std::to_string(j) +
                         " out of range [0, " + std::to_string(n_items) + ")");
      }
    }
    const double y = label[e];
    if (!std::isfinite(y)) {
      std::ostringstream msg;
      msg << "example " << e << ": label " << y << " is not finite";
      fail(source, msg.str());
    }
    if (task == Task::Classification && y != 0.0 && y != 1.0) {
      std::ostringstream msg;
      msg << "example " << e << ": classification label " << y << " is not 0 or 1";
      fail(source, msg.str());
    }
  }
  for (std::size_t k = 0; k < features.size(); ++k) {
    if (!std::isfinite(features[k])) {
      const auto p = static_cast<std::size_t>(num_features > 0 ? num_features : 1);
      std::ostringstream msg;
      msg << "example " << k / p << ": feature " << k % p << " (" << features[k]
          << ") is not finite";
      fail(source, msg.str());
    }
  }
}

DatasetScan scan_of(const Dataset& data) {
  DatasetScan scan;
  scan.task = data.task;
  scan.source = data.source;
  scan.fingerprint = data.fingerprint;
  scan.individual_ids = data.individual_ids;
  scan.per_individual.assign(data.num_individuals(), 0);
  for (const auto i : data.individual) ++scan.per_individual[static_cast<std::size_t>(i)];
  scan.num_items = static_cast<std::int64_t>(data.num_items());
  scan.num_features = data.num_features;
  scan.num_examples = static_cast<std::int64_t>(data.size());
  if (!data.time.empty()) {
    scan.first_time.assign(data.num_individuals(), std::numeric_limits<std::int64_t>::max());
    for (std::size_t e = 0; e < data.size(); ++e) {
      auto& first = scan.first_time[static_cast<std::size_t>(data.individual[e])];
      first = std::min(first, data.time[e]);
    }
  }
  return scan;
}

const char* to_string(Task task) {
  switch (task) {
    case Task::Recommender: return "recommender";
    case Task::Regression: return "regression";
    case Task::Classification: return "classification";
  }
  return "unknown";
}

}  // namespace reciprocity::data
