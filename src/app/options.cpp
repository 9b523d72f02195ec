#include "reciprocity/app/options.hpp"
#include "reciprocity/data/users.hpp"

#include "config_file.hpp"
#include "measure.hpp"
#include "describe_cli.hpp"
#include "option_table.hpp"

#include <boost/program_options.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "reciprocity/core/error.hpp"
#include "reciprocity/core/text.hpp"
#include "reciprocity/core/version.hpp"
#include "reciprocity/model/model.hpp"

namespace po = boost::program_options;

namespace reciprocity::app {
namespace {

/// Per-dataset defaults (docs/method.md section 8). The paper's three experiments were chosen with
/// tools/tune: the deployment-loss optimum over steps, averaged over tuning splits of base seed
/// 1000 (not the sweep's), the cheapest model within 0.2% of the best loss, and the largest
/// learning rate whose first-order discrepancy (p80 over steps) stays within the paper's 1.1%
/// (MovieLens: one step lower, as lr 9 gave 1.17% over the evaluation sweep).
/// The "-long" presets are those of version 0.1 (trained far past the optimum, MovieLens from
/// embeddings of scale 0.5), kept so that the contrast stays reproducible.
struct Preset {
  const char* name;
  const char* family;  ///< the loader: synthetic | movielens | diabetes | breast-cancer | csv
  int splits, seeds, steps, rank;
  double learning_rate, lambda, init_scale;
  std::int64_t users, items, ratings;
};
constexpr Preset kPresets[] = {
    // name                  family           splits seeds steps rank lr     lambda init   synthetic size
    {"synthetic",            "synthetic",     4,     2,    300,  8,   10.0,  0.05,  0.3,   400, 300, 20000},
    {"movielens-100k",       "movielens",     10,    10,   1198, 16,  8.0,   0.5,   0.003, 0, 0, 0},
    {"movielens",            "movielens",     10,    10,   1198, 16,  8.0,   0.5,   0.003, 0, 0, 0},
    {"diabetes",             "diabetes",      100,   1,    353,  0,   0.003, 0.0,   0.0,   0, 0, 0},
    {"breast-cancer",        "breast-cancer", 100,   1,    631,  0,   0.3,   0.0,   0.0,   0, 0, 0},
    {"csv",                  "csv",           10,    1,    500,  0,   0.1,   0.0,   0.0,   0, 0, 0},
    {"movielens-100k-long",  "movielens",     10,    10,   2000, 6,   45.0,  6.0,   0.5,   0, 0, 0},
    {"diabetes-long",        "diabetes",      100,   1,    500,  0,   0.1,   0.0,   0.0,   0, 0, 0},
    {"breast-cancer-long",   "breast-cancer", 100,   1,    500,  0,   0.5,   0.0,   0.0,   0, 0, 0},
};

const Preset* find_preset(const std::string& name) {
  for (const auto& p : kPresets)
    if (name == p.name) return &p;
  return nullptr;
}

/// Upper bounds of the model options: beyond them no training gives a result (the update or
/// the initial loss alone overflows), so such a value is a typing error, refused (exit 2).
constexpr double kMaxLambda = 1e6, kMaxInitScale = 1e3, kMaxNoiseMultiplier = 1e6;

/// Shortest text that reads back as exactly `v` (0.8, not 0.80000000000000004).
std::string fmt(double v) { return shortest_text(v); }


std::string usage(const po::options_description& all) {
  std::ostringstream s;
  s << "reciprocity " << version()
    << ": TracIn inflows, outflows and reciprocity of every individual of a model trained by\n"
       "gradient descent (Sundararajan and Krichene, \"Reciprocity in Machine Learning\").\n\n"
       "Usage: mpirun -n <ranks> reciprocity [options]\n"
       "With no options: a synthetic recommender population (no download), 4 splits x 2 seeds,\n"
       "results in results.h5 and a printed summary.\n\n"
    << all
    << "\nPresets (defaults of the options marked [preset]; every value can be overridden):\n"
       "  dataset              splits seeds steps  k   learning-rate lambda init-scale\n";
  for (const auto& p : kPresets) {
    char line[160];
    std::snprintf(line, sizeof line, "  %-20s %6d %5d %5d %3d %13g %6g %10g\n", p.name, p.splits, p.seeds,
                  p.steps, p.rank, p.learning_rate, p.lambda, p.init_scale);
    s << line;
  }
  s << "\nExit status: 0 done; 2 bad option (also: an --out that may not be replaced, a --resume or --merge on\n"
       "other data); 3 bad data; 4 file error; 5 MPI error; 6 training diverged (a non-finite loss, or one grown\n"
       "1e4-fold); 7 stopped by SIGTERM, SIGINT, SIGHUP or SIGUSR1 (completed runs kept: --resume); 8 the results file is\n"
       "in use by another job (its lock <out>.lock names it), or this job's lock was taken over.\n"
       "Documentation: README.md (options, results-file layout, reading it with h5py).\n";
  return s.str();
}

template <typename T>
void require(bool ok, const char* option, const T& value, const char* rule) {
  if (!ok) {
    std::ostringstream s;
    s << "option --" << option << ": " << value << " is out of range (" << rule << ")";
    throw ConfigError(s.str());
  }
}

/// Stray arguments (not an option, nor an option's value) are an error: a forgotten option name
/// (`--out all.h5 p0.h5 p1.h5` for `--merge p0.h5 p1.h5 --out all.h5`) must not run the default job.
void refuse_positional(const po::parsed_options& parsed) {
  const auto stray = po::collect_unrecognized(parsed.options, po::include_positional);
  if (stray.empty()) return;
  std::string list;
  for (const auto& s : stray) list += (list.empty() ? "\"" : ", \"") + s + "\"";
  throw ConfigError("command line: unexpected argument" + std::string(stray.size() > 1 ? "s " : " ") + list +
                    ": every value follows its option (several files: --merge F1 F2 ...; see --help)");
}

}  // namespace

Parsed parse_checked(int argc, const char* const argv[], ConfigSource& source);

Parsed parse_options(int argc, const char* const argv[]) {
  ConfigSource source;
  try {
    return parse_checked(argc, argv, source);
  } catch (const ConfigError& e) {
    throw ConfigError(source.where_set(e.what()));  // a bad value set in the config file: say where
  }
}

std::vector<std::pair<std::string, std::string>> Config::result_options() const {
  std::vector<std::pair<std::string, std::string>> o = {
      {"dataset", dataset},
      {"data", data},
      {"model", name_of(model)},
      {"csv-individual", csv_individual ? "true" : "false"},
      {"seed", std::to_string(seed)},
      {"train-fraction", fmt(train_fraction)},
      {"rank", std::to_string(rank)},
      {"lambda", fmt(lambda)},
      {"init-scale", fmt(init_scale)},
      {"steps", std::to_string(steps)},
      {"learning-rate", fmt(learning_rate)},
      {"batch-fraction", fmt(batch_fraction)},
      {"flow-interval", std::to_string(flow_interval)},
      {"seeds", std::to_string(seeds)},
      {"save-split-mask", save_split_mask ? "true" : "false"},
      {"marginal", marginal ? "true" : "false"},
      {"marginal-splits", std::to_string(marginal_splits)},
  };
  if (marginal || shapley != ShapleyMethod::kNone) o.emplace_back("marginal-step", name_of(marginal_step));
  if (entities != "individual") o.emplace_back("entities", entities);  // files before --entities: individual
  // Recorded only when not the default, so that files before them (0.3) keep resuming unchanged.
  if (batches != Batches::kRandom) o.emplace_back("batches", name_of(batches));
  if (split_order != SplitOrder::kRandom) o.emplace_back("split-order", name_of(split_order));
  if (clip != 0) o.emplace_back("clip", fmt(clip));
  if (noise_multiplier != 0) o.emplace_back("noise-multiplier", fmt(noise_multiplier));
  if (second_order) o.emplace_back("second-order", "true");  // recorded only when asked for (files before 0.5)
  if (shapley != ShapleyMethod::kNone) {  // recorded only with Shapley flows: files before them resume unchanged
    o.emplace_back("shapley", name_of(shapley));
    o.emplace_back("shapley-splits", std::to_string(shapley_splits));
    if (shapley != ShapleyMethod::kExact) {
      o.emplace_back("shapley-samples", std::to_string(shapley_samples));
      o.emplace_back("shapley-target-se", fmt(shapley_target_se));
    }
  }
  if (model == ModelKind::kKnn) o.emplace_back("neighbours", std::to_string(neighbours));
  if (family == Family::kSynthetic) {
    o.emplace_back("synthetic-users", std::to_string(synthetic_users));
    o.emplace_back("synthetic-items", std::to_string(synthetic_items));
    o.emplace_back("synthetic-ratings", std::to_string(synthetic_ratings));
    o.emplace_back("synthetic-rank", std::to_string(synthetic_rank));
  }
  return o;
}

std::vector<std::pair<std::string, std::string>> Config::later_result_options(bool file_has_marginal) {
  std::vector<std::pair<std::string, std::string>> o = {{"flow-interval", "1"}};
  // Files written before --marginal-step retrained with the mean over the remaining batch.
  if (file_has_marginal) o.emplace_back("marginal-step", "batch-mean");
  return o;
}

std::string Config::divergence_cause() const {
  const Preset* p = find_preset(dataset);
  if (!p) return "";
  std::vector<std::string> raised;
  const auto check = [&](const char* option, double value, double preset) {
    if (value > preset) raised.push_back(std::string("--") + option + " " + fmt(value) + " (the preset's is " + fmt(preset) + ")");
  };
  check("learning-rate", learning_rate, p->learning_rate);
  if (model == ModelKind::kMf) {
    check("lambda", lambda, p->lambda);
    check("init-scale", init_scale, p->init_scale);
  }
  check("noise-multiplier", noise_multiplier, 0.0);
  if (raised.empty()) return "";
  std::string list;
  for (std::size_t k = 0; k < raised.size(); ++k)
    list += (k == 0 ? "" : k + 1 == raised.size() ? " or " : ", ") + raised[k];
  return list + (raised.size() == 1 ? " is" : " are") + " probably too large";
}

namespace {

/// The choice of kind E named `word` for --`option`; otherwise ConfigError: option --NAME: "word"
/// `is` the list of choices joined by `joiner` ("is neither keep nor batch-mean").
template <class E>
E typed(const char* option, const std::string& word, const char* is, const char* joiner) {
  if (const auto v = parse_choice<E>(word)) return *v;
  throw ConfigError(std::string("option --") + option + ": \"" + word + "\" " + is + choice_list<E>(joiner));
}

/// The options that name a choice (--on-divergence, --progress-format, --marginal-step,
/// --split-range) and the combinations that are refused.
void apply_choices(Config& c, const TextOptions& t, const po::variables_map& vm) {
  {
    const std::string& s = t.seed;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), c.seed);
    if (s.empty() || s.front() == '-' || s.front() == '+' || ec != std::errc() || end != s.data() + s.size())
      throw ConfigError("option --seed: \"" + s + "\" is not an integer from 0 to 18446744073709551615 (2^64 - 1)");
  }
  if (t.on_divergence != "stop" && t.on_divergence != "continue")
    throw ConfigError("option --on-divergence: \"" + t.on_divergence + "\" is neither stop nor continue");
  c.continue_on_divergence = t.on_divergence == "continue";
  if (t.progress_format != "text" && t.progress_format != "json")
    throw ConfigError("option --progress-format: \"" + t.progress_format + "\" is neither text nor json");
  c.progress_json = t.progress_format == "json";
  c.marginal_step = typed<MarginalStep>("marginal-step", t.marginal_step, "is neither ", " nor ");
  c.marginal_step_given = !vm["marginal-step"].defaulted();
  c.batches = typed<Batches>("batches", t.batches, "is neither ", " nor ");
  c.split_order = typed<SplitOrder>("split-order", t.split_order, "is not ", " or ");
  c.model = typed<ModelKind>("model", t.model, "is not ", " or ");
  c.shapley = typed<ShapleyMethod>("shapley", t.shapley, "is not ", " or ");
  if (!t.split_range.empty()) {
    int a = -1, b = -1;
    char colon = 0, extra = 0;
    if (std::sscanf(t.split_range.c_str(), "%d%c%d%c", &a, &colon, &b, &extra) != 3 || colon != ':' || a < 0 || b <= a)
      throw ConfigError("option --split-range: \"" + t.split_range + "\" is not A:B with 0 <= A < B");
    c.split_begin = a;
    c.split_end = b;
  }
  if (c.force && c.resume) throw ConfigError("options --force and --resume cannot be combined (--resume keeps the runs of --out)");
  if (!c.merge.empty() && !c.summarize.empty())
    throw ConfigError("options --merge and --summarize cannot be combined");
}

/// The dataset's preset, for every option the command line and config file leave unset.
void apply_preset(Config& c, const po::variables_map& vm) {
  const Preset* p = find_preset(c.dataset);
  if (!p)
    throw ConfigError("option --dataset: unknown dataset \"" + c.dataset +
                      "\" (choose synthetic, movielens-100k, movielens, diabetes, breast-cancer, csv, "
                      "movielens-100k-long, diabetes-long or breast-cancer-long)");
  c.family = *parse_choice<Family>(p->family);
  // A time-ordered split is the same for every split index: one split, repeated by --seeds.
  if (!vm.count("splits")) c.splits = c.split_order == SplitOrder::kRandom ? p->splits : 1;
  if (!vm.count("seeds")) c.seeds = p->seeds;
  if (!vm.count("steps")) c.steps = p->steps;
  if (vm.count("rank") && vm.count("embedding-dim"))
    throw ConfigError("options --embedding-dim and --rank (its alias) cannot both be given");
  if (!vm.count("rank") && !vm.count("embedding-dim")) c.rank = p->rank;
  if (!vm.count("learning-rate")) c.learning_rate = p->learning_rate;
  if (!vm.count("lambda")) c.lambda = p->lambda;
  if (!vm.count("init-scale")) c.init_scale = p->init_scale;
  if (!vm.count("synthetic-users")) c.synthetic_users = p->users;
  if (!vm.count("synthetic-items")) c.synthetic_items = p->items;
  if (!vm.count("synthetic-ratings")) c.synthetic_ratings = p->ratings;

}

/// --model knn: no gradient descent, so only the Marginal flows (implied); the options of
/// training are refused rather than ignored; the file's step dimension has length 1.
void choose_knn(Config& c) {
  const auto refuse = [](bool bad, const std::string& option) {
    if (bad) throw ConfigError("option " + option + ": not available with --model knn (no gradient descent)");
  };
  refuse(c.clip != 0, "--clip");
  refuse(c.noise_multiplier != 0, "--noise-multiplier");
  refuse(c.batch_fraction != 1.0, "--batch-fraction");
  refuse(c.batches != Batches::kRandom, "--batches");
  refuse(c.flow_interval != 1, "--flow-interval");
  refuse(c.entities != "individual", "--entities");
  refuse(c.second_order, "--second-order");
  refuse(c.marginal_step_given && c.marginal_step != MarginalStep::kFullBatch, "--marginal-step");
  if (c.seeds != 1)  // a seed chooses initial parameters and batches: kNN has neither
    throw ConfigError("option --seeds: " + std::to_string(c.seeds) + " with --model knn would repeat each split's run "
                      "unchanged (no initialisation, no batches); use --seeds 1 and more --splits");
  c.marginal = true;
  c.steps = 1;
}

/// The model: the dataset's natural one for auto; a model that does not fit the data is refused.
void choose_model(Config& c) {
  const std::string ds = c.dataset;
  const ModelKind natural = c.family == Family::kSynthetic || c.family == Family::kMovielens ? ModelKind::kMf
                            : c.family == Family::kDiabetes                                 ? ModelKind::kLinear
                            : c.family == Family::kBreastCancer                             ? ModelKind::kLogistic
                                                                                            : ModelKind::kAuto;
  const std::string fits = " [which model fits which data: mf: synthetic, movielens-100k, movielens (ratings); linear: "
                           "diabetes, csv; logistic: breast-cancer, csv]";
  if (c.model == ModelKind::kAuto) {
    if (natural == ModelKind::kAuto) throw ConfigError("option --model: dataset csv needs --model linear, logistic or knn");
    c.model = natural;
  }
  if (c.model == ModelKind::kKnn) {
    if (natural == ModelKind::kMf)
      throw ConfigError("option --model: knn fits feature rows (diabetes, breast-cancer, csv), not the ratings of " + ds);
    choose_knn(c);
    return;
  }
  if (natural != ModelKind::kAuto && c.model != natural)
    throw ConfigError("option --model: dataset " + ds + " is fitted with model " + name_of(natural) + ", not " +
                      name_of(c.model) + fits);
  if (natural == ModelKind::kAuto && c.model == ModelKind::kMf)
    throw ConfigError("option --model: mf does not fit dataset csv (feature rows, not ratings)" + fits);
  if (c.family != Family::kSynthetic && c.data.empty())
    throw ConfigError("option --data: dataset " + ds + " needs --data <directory or file>");
}

/// Every numeric option within its range (ConfigError naming the option otherwise).
void check_ranges(const Config& c, const po::variables_map& vm) {
  require(c.splits >= 1, "splits", c.splits, "at least 1");
  if (c.split_end > c.splits)
    throw ConfigError("option --split-range: " + std::to_string(c.split_begin) + ":" + std::to_string(c.split_end) +
                      " goes past --splits " + std::to_string(c.splits));
  require(c.seeds >= 1, "seeds", c.seeds, "at least 1");
  require(c.steps >= 1, "steps", c.steps, "at least 1");
  require(c.train_fraction > 0 && c.train_fraction < 1, "train-fraction", c.train_fraction, "strictly between 0 and 1");
  require(c.batch_fraction > 0 && c.batch_fraction <= 1, "batch-fraction", c.batch_fraction, "in (0, 1]");
  require(c.flow_interval >= 1, "flow-interval", c.flow_interval, "at least 1");
  require(c.neighbours >= 1, "neighbours", c.neighbours, "at least 1");
  require(std::isfinite(c.clip) && c.clip >= 0, "clip", c.clip, "0 (off) or a positive norm");
  require(std::isfinite(c.noise_multiplier) && c.noise_multiplier >= 0 && c.noise_multiplier <= kMaxNoiseMultiplier,
          "noise-multiplier", c.noise_multiplier, "from 0 to 1e6");
  if (c.noise_multiplier > 0 && c.clip == 0)
    throw ConfigError("option --noise-multiplier " + fmt(c.noise_multiplier) +
                      ": the noise's scale is sigma times the clipping norm; give --clip C as well");
  if (c.batches == Batches::kSinglePass && c.batch_fraction < 1)
    throw ConfigError("option --batches single-pass: every training example joins one step's batch; "
                      "it cannot be combined with --batch-fraction " + fmt(c.batch_fraction));
  if (c.split_order != SplitOrder::kRandom) {
    const std::string order = name_of(c.split_order);
    if (c.family != Family::kMovielens)
      throw ConfigError("option --split-order " + order + ": needs the ratings' timestamps, which dataset " +
                        c.dataset + " does not have (use a MovieLens data set)");
    if (c.splits > 1)
      throw ConfigError("option --splits " + std::to_string(c.splits) + ": a time-ordered split (--split-order " +
                        order + ") is the same for every split; use --splits 1 and repeat with --seeds");
    if (c.save_split_mask)
      throw ConfigError("option --save-split-mask: not available with --split-order " + order +
                        " (the training set is the ratings before the time cut, the same for every run)");
  }
  require(std::isfinite(c.learning_rate) && c.learning_rate > 0, "learning-rate", c.learning_rate, "positive");
  require(c.beta > 0 && c.beta <= 1, "beta", c.beta, "in (0, 1]");
  require(std::isfinite(c.progress_interval) && c.progress_interval >= 0, "progress-interval", c.progress_interval,
          "non-negative seconds");
  require(c.marginal_splits >= 0, "marginal-splits", c.marginal_splits, "0 (all) or positive");
  require(c.shapley_splits >= 0, "shapley-splits", c.shapley_splits, "0 (all) or positive");
  require(c.shapley_samples >= 4 && c.shapley_samples % 2 == 0 && c.shapley_samples <= 1000000, "shapley-samples",
          c.shapley_samples, "even, from 4 to 1e6");
  require(std::isfinite(c.shapley_target_se) && c.shapley_target_se >= 0, "shapley-target-se", c.shapley_target_se,
          "0 (off) or a positive loss");
  require(c.ranks_per_run >= 0, "ranks-per-run", c.ranks_per_run, "0 (automatic) or positive");
  // Finite and within bounds no training survives (refused for every model: they are recorded).
  require(std::isfinite(c.lambda) && c.lambda >= 0 && c.lambda <= kMaxLambda, "lambda", c.lambda,
          "from 0 to 1e6");
  require(std::isfinite(c.init_scale) && c.init_scale >= 0 && c.init_scale <= kMaxInitScale, "init-scale",
          c.init_scale, c.model == ModelKind::kMf ? "positive, at most 1e3" : "from 0 to 1e3");
  if (c.model == ModelKind::kMf) {
    require(c.rank >= 1 && c.rank <= 4096, vm.count("rank") ? "rank" : "embedding-dim", c.rank, "1 to 4096");
    require(c.init_scale > 0, "init-scale", c.init_scale, "positive, at most 1e3");
  }
  if (c.family == Family::kSynthetic) {
    require(c.synthetic_users >= 2, "synthetic-users", c.synthetic_users, "at least 2");
    require(c.synthetic_items >= 2, "synthetic-items", c.synthetic_items, "at least 2");
    require(c.synthetic_ratings >= c.synthetic_users, "synthetic-ratings", c.synthetic_ratings, "at least synthetic-users");
    require(c.synthetic_rank >= 1, "synthetic-rank", c.synthetic_rank, "at least 1");
  }
}

}  // namespace

namespace {

/// Every option, bound to `c` and `t`.
po::options_description all_options(Config& c, TextOptions& t) {
  po::options_description all(kWidth, kWidth / 2);
  for (const auto& group : option_groups(c, t)) all.add(group);
  return all;
}

/// The checks after parsing, on the options in `vm` (bound to `c` and `t`); false when only
/// --merge or --summarize follow (no training options needed).
bool check_config(Config& c, const TextOptions& t, const po::variables_map& vm) {
  apply_choices(c, t, vm);
  apply_preset(c, vm);
  if (!c.merge.empty() || !c.summarize.empty()) return false;
  choose_model(c);
  check_ranges(c, vm);
  return true;
}

/// A value of the config file that the command line overrides is still checked (docs/options.md,
/// Options): its type by read_config_file, its range here, by checking the options again with
/// the file's values winning. An error about an overridden option names the file and the line;
/// any other error of this second check is left to the values actually used (already checked).
void check_overridden(int argc, const char* const argv[], const std::string& path, const ConfigSource& source) {
  if (source.overridden.empty()) return;
  Config c;
  TextOptions t;
  const po::options_description all = all_options(c, t);
  po::variables_map vm;
  ConfigSource scratch;
  try {
    read_config_file(path, all, vm, scratch);  // stored first, so the file's values win
    po::store(po::command_line_parser(argc, argv).options(all).run(), vm);
    po::notify(vm);
    check_config(c, t, vm);
  } catch (const ConfigError& e) {
    const std::string message = e.what(), prefix = "option --";
    if (message.rfind(prefix, 0) != 0) return;
    const std::string name = message.substr(prefix.size(), message.find_first_of(": ", prefix.size()) - prefix.size());
    const auto line = source.line_of.find(name);
    if (!source.overridden.count(name) || line == source.line_of.end()) return;
    throw ConfigError(message + " (set in config file \"" + path + "\" line " + std::to_string(line->second) +
                      "; the command line overrides it, but the file's value must be valid too)");
  } catch (const po::error&) {
    // reported by the first parse
  }
}

}  // namespace

Parsed parse_checked(int argc, const char* const argv[], ConfigSource& source) {
  Parsed parsed;
  Config& c = parsed.config;
  TextOptions t;
  const po::options_description all = all_options(c, t);

  po::variables_map vm;
  try {
    const auto command_line = po::command_line_parser(argc, argv).options(all).run();
    refuse_positional(command_line);
    po::store(command_line, vm);
    if (vm.count("config")) read_config_file(vm["config"].as<std::string>(), all, vm, source);
    po::notify(vm);
  } catch (const po::error& e) {
    throw ConfigError(std::string("command line: ") + e.what() + " (see --help)");
  }
  if (vm.count("help")) {
    parsed.exit_now = true;
    parsed.message = usage(all);
    return parsed;
  }
  if (vm.count("version")) {
    parsed.exit_now = true;
    parsed.message = std::string("reciprocity ") + version() + " (git " + git_revision() +
                     "; matrix-factorisation kernels: " +
                     (model::avx2_kernels_available() ? "avx2" : "portable") + ")\n";
    return parsed;
  }
  if (auto described = describe_request(vm, t)) {  // --describe (describe_cli.cpp)
    parsed.exit_now = true;
    parsed.message = *described;
    return parsed;
  }
  std::ostringstream cmd;
  for (int i = 0; i < argc; ++i) cmd << (i ? " " : "") << argv[i];
  c.command_line = cmd.str();
  const bool training = check_config(c, t, vm);
  if (vm.count("config")) check_overridden(argc, argv, vm["config"].as<std::string>(), source);
  if (!training) return parsed;  // --merge or --summarize: no training options needed
  data::check_grouping_spec(c.entities, name_of(c.family), c.dataset, c.marginal);
  check_measures(c);
  if (c.out.empty()) throw ConfigError("option --out: empty file name");
  return parsed;
}

std::vector<PresetFacts> preset_table() {
  std::vector<PresetFacts> out;
  for (const auto& p : kPresets)
    out.push_back({p.name, p.family, p.splits, p.seeds, p.steps, p.rank, p.learning_rate, p.lambda, p.init_scale,
                   p.users, p.items, p.ratings});
  return out;
}

}  // namespace reciprocity::app
