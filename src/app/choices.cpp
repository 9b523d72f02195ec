// The words of the typed options (include/reciprocity/app/choices.hpp), one table per kind.
#include "reciprocity/app/choices.hpp"

#include <utility>

namespace reciprocity::app {
namespace {

template <class E>
struct Word {
  E value;
  const char* word;
};

template <class E>
struct Table;  // Table<E>::words: every choice of E with its word, in the order --help lists them

template <>
struct Table<Family> {
  static constexpr Word<Family> words[] = {{Family::kSynthetic, "synthetic"},
                                           {Family::kMovielens, "movielens"},
                                           {Family::kDiabetes, "diabetes"},
                                           {Family::kBreastCancer, "breast-cancer"},
                                           {Family::kCsv, "csv"}};
};
template <>
struct Table<ModelKind> {
  static constexpr Word<ModelKind> words[] = {{ModelKind::kAuto, "auto"},
                                              {ModelKind::kMf, "mf"},
                                              {ModelKind::kLinear, "linear"},
                                              {ModelKind::kLogistic, "logistic"},
                                              {ModelKind::kKnn, "knn"}};
};
template <>
struct Table<SplitOrder> {
  static constexpr Word<SplitOrder> words[] = {{SplitOrder::kRandom, "random"},
                                               {SplitOrder::kTime, "time"},
                                               {SplitOrder::kTimePerUser, "time-per-user"}};
};
template <>
struct Table<Batches> {
  static constexpr Word<Batches> words[] = {{Batches::kRandom, "random"}, {Batches::kSinglePass, "single-pass"}};
};
template <>
struct Table<MarginalStep> {
  static constexpr Word<MarginalStep> words[] = {{MarginalStep::kFullBatch, "keep"},
                                                 {MarginalStep::kRemainingBatch, "batch-mean"}};
};

template <>
struct Table<ShapleyMethod> {
  static constexpr Word<ShapleyMethod> words[] = {{ShapleyMethod::kNone, "none"},
                                                  {ShapleyMethod::kExact, "exact"},
                                                  {ShapleyMethod::kPermutations, "permutations"},
                                                  {ShapleyMethod::kBanzhaf, "banzhaf"}};
};

template <class E>
const char* word_of(E v) {
  for (const auto& w : Table<E>::words)
    if (w.value == v) return w.word;
  return "?";
}

}  // namespace

const char* name_of(Family v) { return word_of(v); }
const char* name_of(ModelKind v) { return word_of(v); }
const char* name_of(SplitOrder v) { return word_of(v); }
const char* name_of(Batches v) { return word_of(v); }
const char* name_of(MarginalStep v) { return word_of(v); }
const char* name_of(ShapleyMethod v) { return word_of(v); }

template <class E>
std::optional<E> parse_choice(const std::string& word) {
  for (const auto& w : Table<E>::words)
    if (word.compare(w.word) == 0) return w.value;
  return std::nullopt;
}

template <class E>
std::string choice_list(const char* last_joiner) {
  const auto& words = Table<E>::words;
  const std::size_t n = std::size(words);
  std::string list;
  for (std::size_t k = 0; k < n; ++k) list += (k == 0 ? "" : k + 1 == n ? last_joiner : ", ") + std::string(words[k].word);
  return list;
}

#define RECIPROCITY_CHOICE(E)                                            \
  template std::optional<E> parse_choice<E>(const std::string& word); \
  template std::string choice_list<E>(const char* last_joiner);
RECIPROCITY_CHOICE(Family)
RECIPROCITY_CHOICE(ModelKind)
RECIPROCITY_CHOICE(SplitOrder)
RECIPROCITY_CHOICE(Batches)
RECIPROCITY_CHOICE(MarginalStep)
RECIPROCITY_CHOICE(ShapleyMethod)
#undef RECIPROCITY_CHOICE

}  // namespace reciprocity::app
