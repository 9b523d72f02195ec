// Entities (docs/method.md section 10): MovieLens `u.user` and the groupings of `--entities`
// (data/users.hpp). Parsed with the same strictness as the ratings: every malformed line is an
// error naming file and line.
#include "reciprocity/data/users.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <sys/stat.h>
#include <unordered_map>

#include "reciprocity/core/error.hpp"
#include "text_input.hpp"

namespace reciprocity::data {

namespace {

[[noreturn]] void fail(const std::string& file, std::int64_t line, const std::string& what) {
  throw DataError(file + " line " + std::to_string(line) + ": " + what);
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

std::vector<std::string> split_on(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream in(s);
  while (std::getline(in, field, sep)) out.push_back(trim(field));
  if (!s.empty() && s.back() == sep) out.emplace_back();
  return out;
}

bool parse_integer(const std::string& s, std::int64_t& v) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  v = std::strtoll(s.c_str(), &end, 10);
  return errno == 0 && end == s.c_str() + s.size();
}

std::ifstream open(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw DataError("cannot open \"" + path + "\": " + std::strerror(errno));
  return in;
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string users_file(const std::string& path) {
  if (is_directory(path)) return path + "/u.user";
  const auto slash = path.rfind('/');
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  if (base == "u.user") return path;
  return (slash == std::string::npos ? std::string(".") : path.substr(0, slash)) + "/u.user";
}

/// Dense index of each original id.
std::unordered_map<std::int64_t, std::size_t> index_of(const std::vector<std::int64_t>& ids) {
  std::unordered_map<std::int64_t, std::size_t> m;
  for (std::size_t i = 0; i < ids.size(); ++i) m.emplace(ids[i], i);
  return m;
}

/// Every individual must have a name: else a DataError naming the first without one.
void require_all(const std::vector<std::string>& name_of, const std::vector<std::int64_t>& ids,
                 const std::string& source) {
  std::size_t missing = 0, first = 0;
  for (std::size_t i = 0; i < name_of.size(); ++i)
    if (name_of[i].empty() && missing++ == 0) first = i;
  if (missing > 0)
    throw DataError(source + ": " + std::to_string(missing) + " individual(s) of the data have no entity (first: id " +
                    std::to_string(ids[first]) + ")");
}

Grouping movielens_grouping(const std::string& spec, const std::vector<std::int64_t>& ids, const std::string& data_path) {
  const std::string file = users_file(data_path);
  const auto users = load_movielens_users(file);
  const auto where = index_of(ids);
  std::vector<std::string> name_of(ids.size());
  for (const auto& u : users) {
    const auto it = where.find(u.id);
    if (it == where.end()) continue;  // a user without ratings: in no entity
    name_of[it->second] = spec == "gender" ? u.gender : spec == "occupation" ? u.occupation : age_band(u.age);
  }
  require_all(name_of, ids, file);
  return group_by_name(name_of, spec, file);
}

Grouping column_grouping(const std::string& spec, const std::string& column, const std::vector<std::int64_t>& ids,
                         const std::string& file, bool has_individual) {
  std::int64_t row = 0;
  std::size_t col = 0, columns = 0;
  const auto where = index_of(ids);
  std::vector<std::string> name_of(ids.size());
  std::vector<std::int64_t> first_line(ids.size(), 0);
  // Read as the data were (text_input.hpp): gzip decompressed, a byte order mark dropped.
  text::read_lines(file, text::ends_with(file, ".gz"), [&](text::LineReader& reader) {
  std::string_view view;
  while (reader.next(view)) {
    const std::string text(view);
    const std::int64_t line = reader.line_number();
    if (trim(text).empty()) continue;
    const auto fields = split_on(text, ',');
    if (columns == 0) {
      columns = fields.size();
      const auto it = std::find(fields.begin(), fields.end(), column);
      if (it == fields.end()) fail(file, line, "no column \"" + column + "\" in the header (--entities " + spec + ")");
      col = static_cast<std::size_t>(it - fields.begin());
      continue;
    }
    if (fields.size() != columns)
      fail(file, line, std::to_string(fields.size()) + " columns, expected " + std::to_string(columns));
    std::int64_t id = row++;
    if (has_individual && !parse_integer(fields.back(), id)) fail(file, line, "individual \"" + fields.back() + "\" is not an integer");
    const auto it = where.find(id);
    if (it == where.end()) fail(file, line, "individual " + std::to_string(id) + " is not in the data");
    const std::string& name = fields[col];
    if (name.empty()) fail(file, line, "empty entity name in column \"" + column + "\"");
    auto& mine = name_of[it->second];
    if (!mine.empty() && mine != name)
      fail(file, line, "individual " + std::to_string(id) + " is in entity \"" + name + "\" here but \"" + mine +
                           "\" at line " + std::to_string(first_line[it->second]));
    if (mine.empty()) first_line[it->second] = line;
    mine = name;
  }
  });
  if (columns == 0) throw DataError(file + ": empty file (--entities " + spec + ")");
  require_all(name_of, ids, file);
  return group_by_name(name_of, spec, file);
}

Grouping map_grouping(const std::string& spec, const std::string& file, const std::vector<std::int64_t>& ids) {
  if (is_directory(file))
    throw ConfigError("option --entities " + spec + ": \"" + file + "\" is a directory, not a file of lines "
                      "`individual id,entity name`");
  auto in = open(file);
  std::string text;
  std::int64_t line = 0;
  bool first = true;
  const auto where = index_of(ids);
  std::vector<std::string> name_of(ids.size());
  std::vector<std::int64_t> first_line(ids.size(), 0);
  while (std::getline(in, text)) {
    if (++line == 1 && text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);  // a UTF-8 byte order mark
    const std::string t = trim(text);
    if (t.empty() || t[0] == '#') continue;
    const auto fields = split_on(t, t.find('\t') != std::string::npos ? '\t' : ',');
    std::int64_t id = 0;
    const bool numeric = !fields.empty() && parse_integer(fields[0], id);
    if (first && !numeric) {  // a header line
      first = false;
      continue;
    }
    first = false;
    if (fields.size() != 2) fail(file, line, std::to_string(fields.size()) + " fields, expected 2 (individual id, entity name)");
    if (!numeric) fail(file, line, "individual id \"" + fields[0] + "\" is not an integer");
    if (fields[1].empty()) fail(file, line, "empty entity name for individual " + fields[0]);
    const auto it = where.find(id);
    if (it == where.end()) fail(file, line, "individual " + fields[0] + " is not in the data");
    auto& mine = name_of[it->second];
    if (!mine.empty())
      fail(file, line, "individual " + fields[0] + " mapped again (first at line " + std::to_string(first_line[it->second]) + ")");
    first_line[it->second] = line;
    mine = fields[1];
  }
  require_all(name_of, ids, file);
  return group_by_name(name_of, spec, file);
}

}  // namespace

std::vector<MovieLensUser> load_movielens_users(const std::string& path) {
  const std::string file = users_file(path);
  auto in = open(file);
  std::vector<MovieLensUser> users;
  std::map<std::int64_t, std::int64_t> seen;  // id -> line
  std::string text;
  std::int64_t line = 0;
  while (std::getline(in, text)) {
    ++line;
    if (trim(text).empty()) continue;
    const auto f = split_on(text, '|');
    if (f.size() != 5) fail(file, line, std::to_string(f.size()) + " fields, expected 5 (id|age|gender|occupation|zip)");
    MovieLensUser u;
    std::int64_t age = 0;
    if (!parse_integer(f[0], u.id) || u.id < 0) fail(file, line, "user id \"" + f[0] + "\" is not a non-negative integer");
    if (!parse_integer(f[1], age) || age < 1 || age > 150) fail(file, line, "age \"" + f[1] + "\" is not an integer in 1..150");
    if (f[2] != "M" && f[2] != "F") fail(file, line, "gender \"" + f[2] + "\" is not M or F");
    if (f[3].empty()) fail(file, line, "empty occupation");
    const auto [it, fresh] = seen.emplace(u.id, line);
    if (!fresh) fail(file, line, "user " + f[0] + " repeated (first at line " + std::to_string(it->second) + ")");
    u.age = static_cast<int>(age);
    u.gender = f[2];
    u.occupation = f[3];
    users.push_back(u);
  }
  if (users.empty()) throw DataError(file + ": the file has no users");
  return users;
}

std::string age_band(int age) {
  if (age < 18) return "under-18";
  if (age < 25) return "18-24";
  if (age < 35) return "25-34";
  if (age < 45) return "35-44";
  if (age < 50) return "45-49";
  if (age < 56) return "50-55";
  return "56+";
}

bool is_individual_grouping(const std::string& spec) { return spec.empty() || spec == "individual"; }

Grouping group_by_name(const std::vector<std::string>& name_of, const std::string& spec, const std::string& source) {
  Grouping g;
  g.spec = spec;
  g.source = source;
  g.names = name_of;
  std::sort(g.names.begin(), g.names.end());
  g.names.erase(std::unique(g.names.begin(), g.names.end()), g.names.end());
  g.sizes.assign(g.names.size(), 0);
  g.entity_of.resize(name_of.size());
  for (std::size_t i = 0; i < name_of.size(); ++i) {
    const auto e = std::lower_bound(g.names.begin(), g.names.end(), name_of[i]) - g.names.begin();
    g.entity_of[i] = static_cast<std::int32_t>(e);
    ++g.sizes[static_cast<std::size_t>(e)];
  }
  return g;
}

void check_grouping_spec(const std::string& e, const std::string& family, const std::string& dataset,
                         bool marginal) {
  if (is_individual_grouping(e)) return;
  const bool movielens_field = e == "occupation" || e == "gender" || e == "age-band";
  if (movielens_field && family != "movielens")
    throw ConfigError("option --entities: \"" + e + "\" needs MovieLens users (u.user), not the dataset " + dataset);
  if (e.rfind("column:", 0) == 0 && (e.size() == 7 || family != "csv"))
    throw ConfigError("option --entities: \"" + e + "\" needs a column name and the csv dataset");
  if (e.rfind("map:", 0) == 0 && e.size() == 4) throw ConfigError("option --entities: map: needs a file name");
  if (!movielens_field && e.rfind("column:", 0) != 0 && e.rfind("map:", 0) != 0)
    throw ConfigError("option --entities: \"" + e +
                      "\" is not individual, occupation, gender, age-band, column:NAME or map:FILE");
  (void)marginal;  // --marginal adds the leave-one-entity-out flows (/flows/entity_marginal)
}

Grouping make_grouping(const std::string& spec, const std::vector<std::int64_t>& individual_ids,
                       const std::string& data_path, bool csv_has_individual) {
  if (spec == "occupation" || spec == "gender" || spec == "age-band")
    return movielens_grouping(spec, individual_ids, data_path);
  if (spec.rfind("column:", 0) == 0 && spec.size() > 7)
    return column_grouping(spec, spec.substr(7), individual_ids, data_path, csv_has_individual);
  if (spec.rfind("map:", 0) == 0 && spec.size() > 4) return map_grouping(spec, spec.substr(4), individual_ids);
  throw ConfigError("--entities " + spec +
                    ": expected individual, occupation, gender, age-band, column:NAME or map:FILE");
}

}  // namespace reciprocity::data
