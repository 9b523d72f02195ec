#pragma once
// The options that name one of a few choices, typed: each is an enum inside the program and a
// word on the command line, in a config file and in a results file's config_<option> attribute.
// The words are written once, in the tables of src/app/choices.cpp; parse_choice and name_of
// are the only places that turn one into the other.
#include <optional>
#include <string>

#include "reciprocity/split/split.hpp"
#include "reciprocity/train/engine.hpp"

namespace reciprocity::app {

/// The loader of a dataset preset (--dataset picks a preset; the preset names its family).
enum class Family { kSynthetic, kMovielens, kDiabetes, kBreastCancer, kCsv };
/// --model: the model fitted (kAuto only until the dataset's preset resolves it).
enum class ModelKind { kAuto, kMf, kLinear, kLogistic, kKnn };
/// --shapley: Shapley flows by retraining (docs/method.md section 12): none, exact over every
/// coalition, or sampled by antithetic orderings (permutations) or complementary coalitions (banzhaf).
enum class ShapleyMethod { kNone, kExact, kPermutations, kBanzhaf };
/// --split-order (split::Order), --batches (train::Schedule::Batches), --marginal-step
/// (train::Schedule::Divisor): the enums of the layers that act on them.
using SplitOrder = split::Order;
using Batches = train::Schedule::Batches;
using MarginalStep = train::Schedule::Divisor;

/// Whether model `m` is trained by gradient descent (so has TracIn flows and Marginal retraining);
/// not k nearest neighbours.
inline bool gradient_descent(ModelKind m) { return m != ModelKind::kKnn; }

/// The word of a choice ("mf", "time-per-user", "keep", ...).
const char* name_of(Family v);
const char* name_of(ModelKind v);
const char* name_of(SplitOrder v);
const char* name_of(Batches v);
const char* name_of(MarginalStep v);
const char* name_of(ShapleyMethod v);

/// The choice named `word`, or nothing when no choice of that kind has this name.
template <class E>
std::optional<E> parse_choice(const std::string& word);

/// "a, b or c": the words of every choice of the kind, for messages and --help.
template <class E>
std::string choice_list(const char* last_joiner = " or ");

}  // namespace reciprocity::app
