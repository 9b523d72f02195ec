#include "option_table.hpp"

namespace po = boost::program_options;

namespace reciprocity::app {

po::options_description general_options(TextOptions& t) {
  po::options_description group("General", kWidth, kWidth / 2);
  group.add_options()
      ("help,h", "print this help and exit")
      ("version", "print the version and exit")
      ("config", po::value(&t.config_file), "read options from this file: lines `name = value` (`#` starts a comment; a switch "
       "is `name = true` or false, also 1/0, yes/no, on/off); the command line wins")
      ("describe", po::value(&t.describe), "print the program's own tables and exit: schema (the results file's "
       "layout), options (every option; which determine the numbers, recorded as config_<name>) or presets")
      ("describe-format", po::value(&t.describe_format)->default_value(t.describe_format),
       "json (for tools: tools/reciprocity_tools reads it) | markdown (the tables of the documentation)");
  return group;
}

po::options_description data_options(Config& c, TextOptions& t) {
  po::options_description group("Data", kWidth, kWidth / 2);
  group.add_options()
      ("dataset", po::value(&c.dataset)->default_value(c.dataset),
       "synthetic | movielens-100k | movielens (1M/10M `::` or 20M/25M csv) | diabetes | breast-cancer | csv; "
       "the presets of version 0.1: movielens-100k-long | diabetes-long | breast-cancer-long")
      ("data", po::value(&c.data), "data directory or file (movielens: dir with u.data / ratings.dat / ratings.csv; "
       "diabetes, breast-cancer: dir as shipped by scikit-learn; csv: the file, plain or .gz). Numbers must be finite, "
       "ratings within +-1e6, features and labels within +-1e15; MovieLens ids positive, each (user, item) rated "
       "once; a classification's labels of both classes")
      ("model", po::value(&t.model)->default_value(t.model), "auto (from the dataset) | mf (synthetic, movielens) | "
       "linear (diabetes, csv) | logistic (breast-cancer, csv) | knn (diabetes, breast-cancer, csv: k nearest "
       "neighbours, no gradient descent, so no TracIn: implies --marginal, whose flows are exact leave-one-individual-"
       "out without refitting; see --neighbours; the options of gradient descent and --seeds other than 1 are "
       "refused)")
      ("neighbours", po::value(&c.neighbours)->default_value(c.neighbours),
       "--model knn: K, the neighbours averaged (Euclidean distance on features standardised with the training "
       "split, ties to the smaller example id; prediction the mean label, loss the squared error: the Brier score "
       "for 0/1 labels)")
      ("csv-individual", po::bool_switch(&c.csv_individual), "csv: the last column is the individual id (else one row per individual)")
      ("entities", po::value(&c.entities)->default_value(c.entities),
       "the unit of reciprocity (docs/method.md section 10): individual (each individual its own entity); occupation, "
       "gender or age-band (movielens 100K: from u.user next to the ratings); column:NAME (csv: the column headed NAME; "
       "an individual's rows must agree); map:FILE (lines `individual id,entity name`). Other than individual, adds "
       "the entity flows and the E x E TracIn matrix of every run to the results file (/flows/entity); with --marginal, "
       "also the leave-one-entity-out Marginal flows (E + 1 trainings per run, /flows/entity_marginal)")
      ("synthetic-users", po::value(&c.synthetic_users), "synthetic: number of users [preset]")
      ("synthetic-items", po::value(&c.synthetic_items), "synthetic: number of items [preset]")
      ("synthetic-ratings", po::value(&c.synthetic_ratings), "synthetic: approximate number of ratings [preset]")
      ("synthetic-rank", po::value(&c.synthetic_rank)->default_value(c.synthetic_rank), "synthetic: rank of the planted model");
  return group;
}

po::options_description run_options(Config& c, TextOptions& t) {
  po::options_description group("Runs", kWidth, kWidth / 2);
  group.add_options()
      ("splits", po::value(&c.splits), "random train/deployment splits [preset]")
      ("seeds", po::value(&c.seeds), "initialisations (seeds) per split [preset]")
      ("seed", po::value(&t.seed)->default_value(t.seed), "base seed of splits, batches and initialisations: an "
       "integer from 0 to 2^64 - 1")
      ("train-fraction", po::value(&c.train_fraction)->default_value(c.train_fraction, "0.8"),
       "fraction of ratings (recommender) or individuals (regression) in training, in (0, 1)")
      ("split-order", po::value(&t.split_order)->default_value(t.split_order),
       "random: random splits (docs/method.md section 4); time: training = the earliest --train-fraction of all ratings "
       "by timestamp, deployment = the later ones (one global time cut); time-per-user: each user's earliest "
       "--train-fraction of its ratings train (at least one, and at least one deployed when it has two), the later "
       "ones are deployed. Time orders need MovieLens timestamps and are the same for every split (--splits 1, "
       "the default with them; repeat with --seeds); /individuals/arrival then holds each user's first rating time");
  return group;
}

po::options_description model_options(Config& c, TextOptions& t) {
  po::options_description group("Model and training", kWidth, kWidth / 2);
  group.add_options()
      ("embedding-dim,k", po::value(&c.rank), "matrix factorisation: embedding dimension k [preset]")
      ("rank", po::value(&c.rank), "alias of --embedding-dim (its name before 0.2; recorded in results files as "
       "config_rank); not the MPI rank")
      ("lambda", po::value(&c.lambda), "matrix factorisation: regularisation strength, 0 to 1e6 [preset]")
      ("init-scale", po::value(&c.init_scale), "matrix factorisation: std of the initial embeddings, at most 1e3 [preset]")
      ("steps", po::value(&c.steps), "gradient-descent steps [preset]")
      ("learning-rate", po::value(&c.learning_rate), "step size eta (the update is eta times the batch-mean gradient) [preset]")
      ("batch-fraction", po::value(&c.batch_fraction)->default_value(c.batch_fraction),
       "1: full-batch GD; < 1: each training example joins each step's batch with this probability")
      ("batches", po::value(&t.batches)->default_value(t.batches),
       "random: each step's batch as --batch-fraction says (examples revisited at every step); single-pass: each "
       "training example joins the batch of exactly one step, drawn uniformly (the theorem's fresh, independent "
       "batches; a synthetic population then gives every step new examples of the planted model)")
      ("flow-interval", po::value(&c.flow_interval)->default_value(c.flow_interval),
       "1: exact TracIn, the flow terms of every step; N > 1: TracIn with checkpoints, the flow terms of "
       "steps 0, N, 2N, ... only, each weighted by the N steps it stands for (cheaper by about the "
       "flows' extra cost times 1 - 1/N; an approximation, see docs/method.md section 2)")
      ("clip", po::value(&c.clip)->default_value(c.clip),
       "0: off; C > 0: DP-SGD per-example clipping: each batch example's whole training gradient (every "
       "parameter it touches, regulariser included) is scaled to norm C when its norm exceeds C, before it enters "
       "the update and G^B; deployment gradients stay raw, so TracIn credits clip_C(g_z) . g_z' (docs/method.md "
       "section 9). Marginal retrains with the same clipping. Examples at or under C are untouched")
      ("noise-multiplier", po::value(&c.noise_multiplier)->default_value(c.noise_multiplier),
       "sigma from 0 to 1e6, with --clip C: Gaussian noise of standard deviation sigma C added to every coordinate of the "
       "summed (clipped) batch gradient of every step, drawn from the run and the step (the same on any number of "
       "ranks, and in the Marginal retrainings); credited to no one in the flows");
  return group;
}

po::options_description marginal_options(Config& c, TextOptions& t) {
  po::options_description group("Marginal influence", kWidth, kWidth / 2);
  group.add_options()
      ("marginal", po::bool_switch(&c.marginal),
       "also compute Marginal flows: retrain without each individual (N retrainings per run, spread over all ranks)")
      ("marginal-splits", po::value(&c.marginal_splits)->default_value(c.marginal_splits),
       "Marginal only for the first this many splits (all seeds); 0: every split")
      ("marginal-step", po::value(&t.marginal_step)->default_value(t.marginal_step),
       "keep: a retraining divides by the full training's batch size, so every remaining example keeps its "
       "step and Marginal tends to TracIn as the learning rate goes to 0; batch-mean: the mean over the "
       "remaining batch (rescales everyone's step; the only convention before version 0.2). --resume "
       "without this option continues a file with the file's convention");
  return group;
}

po::options_description shapley_options(Config& c, TextOptions& t) {
  po::options_description group("Shapley influence", kWidth, kWidth / 2);
  group.add_options()
      ("shapley", po::value(&t.shapley)->default_value(t.shapley),
       "none | exact | permutations | banzhaf: also Shapley flows by retraining (docs/method.md section 12). "
       "The players are the entities of --entities, else the individuals; the value of a coalition S for player "
       "f is the drop of f's deployment loss when training on S's data only (same initialisation and batches, "
       "the step of --marginal-step). exact: every coalition (2^P - 1 trainings, P <= 14 players with training "
       "data); permutations: antithetic pairs of random orderings (P - 1 trainings each); banzhaf: Banzhaf "
       "values from complementary pairs of random coalitions (2 trainings each). Sampled flows get standard "
       "errors (/flows/shapley/*_se)")
      ("second-order", po::bool_switch(&c.second_order),
       "also the in-run Shapley flows to second order (docs/method.md section 13): each step's TracIn terms plus "
       "-(1/2)(eta/|B_t|)^2 G^B_i . H_{D_j} G^B (exact Hessians), in /flows/shapley_inrun, and the second-order "
       "discrepancy of every step (/runs/second_order_discrepancy); costs about 1.6 times the TracIn flows per step. "
       "Not with --model knn")
      ("shapley-samples", po::value(&c.shapley_samples)->default_value(c.shapley_samples),
       "sampled --shapley: orderings (permutations) or coalitions (banzhaf) per run, even, at least 4")
      ("shapley-target-se", po::value(&c.shapley_target_se)->default_value(c.shapley_target_se),
       "sampled --shapley: stop a run's sampling early once every inflow and outflow standard error is at most "
       "this (loss units); 0: always --shapley-samples")
      ("shapley-splits", po::value(&c.shapley_splits)->default_value(c.shapley_splits),
       "Shapley flows only for the first this many splits (all seeds); 0: every split");
  return group;
}

po::options_description output_options(Config& c, TextOptions& t) {
  po::options_description group("Output and execution", kWidth, kWidth / 2);
  group.add_options()
      ("out", po::value(&c.out)->default_value(c.out), "results file (HDF5). An existing file is replaced only if it is a "
       "results file with no completed runs, or with --force; any other file never (exit 2)")
      ("force", po::bool_switch(&c.force), "let --out replace a results file that holds completed runs")
      ("break-lock", po::bool_switch(&c.break_lock), "take over the lock of the results file (--out, or the file of "
       "--summarize) although its holder may still run. Without it, a file in use by another job is refused (exit 8); "
       "a lock whose holder is gone is taken over anyway: same host and its process ended, an earlier run of this "
       "requeued Slurm job, or no heartbeat for 300 s (another host)")
      ("resume", po::bool_switch(&c.resume), "reopen --out, check its configuration and its data match (the data by content, "
       "their fingerprint: the same data at another path are accepted, changed data never), and run only the runs not "
       "complete (with more --splits: grow it; a missing --out is started)")
      ("save-split-mask", po::bool_switch(&c.save_split_mask), "store each split's training mask in /splits/train_mask")
      ("ranks-per-run", po::value(&c.ranks_per_run)->default_value(c.ranks_per_run),
       "ranks that share one run (data parallel); the others run other (split, seed) runs at the same time. "
       "0: 1 for data sets under 200,000 examples, else all ranks")
      ("beta", po::value(&c.beta)->default_value(c.beta), "report alpha such that a fraction beta of individuals has reciprocity >= alpha")
      ("quiet,q", po::bool_switch(&c.quiet), "print only the final summary")
      ("split-range", po::value(&t.split_range), "run only splits A..B-1 of the sweep (A:B), e.g. one Slurm array task; "
       "combine the files with --merge")
      ("on-divergence", po::value(&t.on_divergence)->default_value("stop"),
       "stop: a run whose loss becomes non-finite stops the sweep (exit 6); continue: record its step in "
       "/runs/diverged_step, leave it incomplete, and go on")
      ("progress-format", po::value(&t.progress_format)->default_value("text"),
       "text | json: progress and per-run lines as JSON objects, one per line")
      ("progress-interval", po::value(&c.progress_interval)->default_value(c.progress_interval),
       "seconds between the reports within a run (the step a TracIn run has reached, a Marginal run's retrainings)")
      ("merge", po::value(&c.merge)->multitoken(), "combine results files of the same configuration (e.g. array "
       "tasks) into --out: every run complete in some input is copied; no training")
      ("summarize", po::value(&c.summarize), "print (and store in the file's /summary, replacing it) the summary "
       "of an existing results file: alpha at --beta, correlation, negative fractions, SNR per individual "
       "(conditional on the runs where it is deployed / trains where individuals are split); no training");
  return group;
}

std::vector<po::options_description> option_groups(Config& c, TextOptions& t) {
  return {general_options(t), data_options(c, t),    run_options(c, t),   model_options(c, t),
          marginal_options(c, t), shapley_options(c, t), output_options(c, t)};
}

}  // namespace reciprocity::app
