// Tabular sets: scikit-learn's diabetes (whitespace-separated, gzip or plain) and breast cancer
// (CSV with a count header) copies, and generic CSV files. Each row is an example; individuals
// are rows unless a CSV has an individual column.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "reciprocity/core/error.hpp"
#include "reciprocity/data/loaders.hpp"
#include "text_input.hpp"

namespace reciprocity::data {

namespace fs = std::filesystem;
using namespace text;

namespace {

/// A classification set whose labels are all one class is refused: a logistic model trained on
/// it only learns to push every score further out, so its flows are noise.
void require_both_classes(const Dataset& d, const std::string& file) {
  if (d.task != Task::Classification || d.label.empty()) return;
  std::size_t ones = 0;
  for (const double y : d.label) ones += y == 1.0;
  if (ones == 0 || ones == d.label.size())
    throw DataError(file + ": every label is " + (ones == 0 ? "0" : "1") + " (" + std::to_string(d.label.size()) +
                    " rows): a classification needs both classes (with one, the flows are noise)");
}

}  // namespace

// -----------------------------------------------------------------------------------------------
// Diabetes and breast cancer (scikit-learn's copies)

Dataset load_diabetes(const std::string& dir) {
  constexpr std::size_t num_features = 10;
  const auto [features_file, features_gz] = gzip_or_plain(dir, "diabetes_data_raw.csv");
  const auto [target_file, target_gz] = gzip_or_plain(dir, "diabetes_target.csv");

  Dataset d;
  d.task = Task::Regression;
  d.source = features_file;
  d.num_features = static_cast<int>(num_features);
  d.fingerprint.files.push_back(read_records(features_file, features_gz, Separator::Whitespace,
                                             [&](const Line& line, const std::vector<std::string_view>& fields) {
                                               line.expect_columns(fields.size(), num_features);
                                               append_features(line, fields, 0, num_features, d.features);
                                             }));
  const std::size_t rows = d.features.size() / num_features;
  if (rows == 0) no_examples(features_file);

  d.fingerprint.files.push_back(read_records(target_file, target_gz, Separator::Whitespace,
                                             [&](const Line& line, const std::vector<std::string_view>& fields) {
                                               line.expect_columns(fields.size(), 1);
                                               d.label.push_back(line.number(fields[0], "target"));
                                             }));
  if (d.label.empty()) no_examples(target_file);
  if (d.label.size() != rows) {
    throw DataError("loading diabetes from \"" + dir + "\": " + features_file + " has " +
                    std::to_string(rows) + " rows but " + target_file + " has " +
                    std::to_string(d.label.size()) + " targets");
  }
  one_individual_per_row(d);
  d.validate();
  return d;
}

namespace {

/// The header `rows,features,class names...` of breast_cancer.csv.
struct CountHeader {
  std::int64_t line = 0;  ///< 0 until read
  std::int64_t rows = 0;
  std::size_t features = 0;
  std::string text;

  void read(const Line& l, const std::vector<std::string_view>& fields) {
    line = l.reader.line_number();
    text = excerpt(l.text);
    if (fields.size() < 2) l.fail("expected a header `rows,features,class names...`, found " + quoted(l.text));
    rows = l.integer(fields[0], "row count");
    const std::int64_t count = l.integer(fields[1], "feature count");
    if (rows < 0 || count < 1 || count > 1000000) l.fail("implausible header (" + quoted(l.text) + ")");
    features = static_cast<std::size_t>(count);
  }
};

}  // namespace

Dataset load_breast_cancer(const std::string& dir) {
  const std::string file = (fs::path(dir) / "breast_cancer.csv").string();
  Dataset d;
  d.task = Task::Classification;
  d.source = file;
  CountHeader header;
  d.fingerprint.files.push_back(
      read_records(file, false, Separator::Comma, [&](const Line& line, const std::vector<std::string_view>& fields) {
        if (header.line == 0) {
          header.read(line, fields);
          d.num_features = static_cast<int>(header.features);
          d.features.reserve(static_cast<std::size_t>(header.rows) * header.features);
          d.label.reserve(static_cast<std::size_t>(header.rows));
          return;
        }
        line.expect_columns(fields.size(), header.features + 1);
        append_features(line, fields, 0, header.features, d.features);
        d.label.push_back(line.class_label(fields[header.features], "target"));
      }));
  if (header.line == 0) no_examples(file);
  if (static_cast<std::int64_t>(d.label.size()) != header.rows) {
    line_error(file, header.line,
               "header says " + std::to_string(header.rows) + " rows but the file has " +
                   std::to_string(d.label.size()) + " (\"" + header.text + "\")");
  }
  if (d.label.empty()) no_examples(file);
  require_both_classes(d, file);
  one_individual_per_row(d);
  d.validate();
  return d;
}

// -----------------------------------------------------------------------------------------------
// Generic CSV

Dataset load_csv(const std::string& path, Task task, bool has_individual) {
  if (task != Task::Regression && task != Task::Classification) {
    throw ConfigError("loading CSV \"" + path + "\": task must be regression or classification, not " +
                      to_string(task));
  }
  Dataset d;
  d.task = task;
  d.source = path;
  const std::size_t extra = has_individual ? 2 : 1;  // label [, individual]
  DenseIndex individuals(d.individual_ids);
  std::size_t columns = 0;
  const bool gzip = ends_with(path, ".gz");  // `data.csv.gz`: decompressed (zlib)
  d.fingerprint.files.push_back(
      read_records(path, gzip, Separator::Comma, [&](const Line& line, const std::vector<std::string_view>& fields) {
        if (columns == 0) {
          columns = fields.size();
          if (columns < extra + 1) {
            line.fail("header has " + std::to_string(columns) + " columns, expected at least " +
                      std::to_string(extra + 1) + " (features, label" + (has_individual ? ", individual" : "") +
                      ") (" + quoted(line.text) + ")");
          }
          d.num_features = static_cast<int>(columns - extra);
          d.features.reserve(estimated_lines(path, 8 * columns) * (columns - extra));
          return;
        }
        line.expect_columns(fields.size(), columns);
        const std::size_t p = columns - extra;
        append_features(line, fields, 0, p, d.features);
        d.label.push_back(task == Task::Classification ? line.class_label(fields[p], "label")
                                                       : line.number(fields[p], "label"));
        if (has_individual) {
          d.individual.push_back(individuals(line.integer(fields[p + 1], "individual"), line, "individual"));
        }
      }));
  if (d.label.empty()) no_examples(path);
  require_both_classes(d, path);
  if (!has_individual) one_individual_per_row(d);
  d.validate();
  return d;
}

}  // namespace reciprocity::data
