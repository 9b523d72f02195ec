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
  std::vector<std::string_view> fields;

  d.fingerprint.files.push_back(read_lines(features_file, features_gz, [&](LineReader& reader) {
    std::string_view text;
    while (reader.next(text)) {
      if (is_blank(text)) continue;
      const Line line{reader, text};
      split(text, Separator::Whitespace, fields);
      line.expect_columns(fields.size(), num_features);
      append_features(line, fields, 0, num_features, d.features);
    }
  }));
  const std::size_t rows = d.features.size() / num_features;
  if (rows == 0) no_examples(features_file);

  d.fingerprint.files.push_back(read_lines(target_file, target_gz, [&](LineReader& reader) {
    std::string_view text;
    while (reader.next(text)) {
      if (is_blank(text)) continue;
      const Line line{reader, text};
      split(text, Separator::Whitespace, fields);
      line.expect_columns(fields.size(), 1);
      d.label.push_back(line.number(fields[0], "target"));
    }
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

Dataset load_breast_cancer(const std::string& dir) {
  const std::string file = (fs::path(dir) / "breast_cancer.csv").string();
  Dataset d;
  d.task = Task::Classification;
  d.source = file;

  std::int64_t header_rows = 0;
  std::int64_t header_line = 0;
  std::string header_text;
  d.fingerprint.files.push_back(read_lines(file, false, [&](LineReader& reader) {
    std::vector<std::string_view> fields;
    std::size_t num_features = 0;
    std::string_view text;
    while (reader.next(text)) {
      if (is_blank(text)) continue;
      const Line line{reader, text};
      split(text, Separator::Comma, fields);
      if (header_line == 0) {
        // Header: n_rows, n_features, class names.
        header_line = reader.line_number();
        header_text = excerpt(text);
        if (fields.size() < 2) {
          line.fail("expected a header `rows,features,class names...`, found " + quoted(text));
        }
        header_rows = line.integer(fields[0], "row count");
        const std::int64_t features = line.integer(fields[1], "feature count");
        if (header_rows < 0 || features < 1 || features > 1000000) {
          line.fail("implausible header (" + quoted(text) + ")");
        }
        num_features = static_cast<std::size_t>(features);
        d.num_features = static_cast<int>(features);
        d.features.reserve(static_cast<std::size_t>(header_rows) * num_features);
        d.label.reserve(static_cast<std::size_t>(header_rows));
        continue;
      }
      line.expect_columns(fields.size(), num_features + 1);
      append_features(line, fields, 0, num_features, d.features);
      d.label.push_back(line.class_label(fields[num_features], "target"));
    }
  }));
  if (header_line == 0) no_examples(file);
  if (static_cast<std::int64_t>(d.label.size()) != header_rows) {
    line_error(file, header_line,
               "header says " + std::to_string(header_rows) + " rows but the file has " +
                   std::to_string(d.label.size()) + " (\"" + header_text + "\")");
  }
  if (d.label.empty()) no_examples(file);
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
  d.fingerprint.files.push_back(read_lines(path, false, [&](LineReader& reader) {
    DenseIndex individuals(d.individual_ids);
    std::vector<std::string_view> fields;
    std::size_t columns = 0;
    std::string_view text;
    while (reader.next(text)) {
      if (is_blank(text)) continue;
      const Line line{reader, text};
      split(text, Separator::Comma, fields);
      if (columns == 0) {
        columns = fields.size();
        if (columns < extra + 1) {
          line.fail("header has " + std::to_string(columns) + " columns, expected at least " +
                    std::to_string(extra + 1) + " (features, label" +
                    (has_individual ? ", individual" : "") + ") (" + quoted(text) + ")");
        }
        d.num_features = static_cast<int>(columns - extra);
        d.features.reserve(estimated_lines(path, 8 * columns) * (columns - extra));
        continue;
      }
      line.expect_columns(fields.size(), columns);
      const std::size_t p = columns - extra;
      append_features(line, fields, 0, p, d.features);
      d.label.push_back(task == Task::Classification ? line.class_label(fields[p], "label")
                                                     : line.number(fields[p], "label"));
      if (has_individual) {
        d.individual.push_back(individuals(line.integer(fields[p + 1], "individual"), line, "individual"));
      }
    }
  }));
  if (d.label.empty()) no_examples(path);
  if (!has_individual) one_individual_per_row(d);
  d.validate();
  return d;
}

}  // namespace reciprocity::data
