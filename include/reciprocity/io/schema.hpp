#pragma once
// The results file's layout, declared once (docs/method.md section 6): every dataset's path, element
// type, named dimensions, units, one-line description and when it is present; the dimensions and
// their coordinates; the root attributes and their types. Creating, checking, growing, writing,
// reading and merging a file follow these tables; the file carries them (a `description` and
// `units` attribute on every dataset, HDF5 dimension scales), and `reciprocity --describe schema`
// prints them for the Python tools and the documentation (tests/cli/test_schema.sh, test_describe.sh).
#include <hdf5.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace reciprocity::io {

/// A measure whose flows a run gets after its training, computed over every rank (Marginal by
/// leave-one-out retraining, Shapley by retraining on coalitions, ...). A file whose layout has
/// measure `name` holds /flows/<name>/{inflow,outflow,self} [split, seed, individual] and
/// /runs/<name>_complete, /runs/<name>_digest [split, seed]; with entities
/// /flows/entity_<name>/{inflow,outflow,self,matrix}; once summarised /summary/<name>_* along
/// /summary/<name>_run; in the journal the files <name>-S-R. Declared once, in
/// after_run_measures() (src/io/schema.cpp): a new measure adds one entry there.
struct AfterRunMeasure {
  std::string name;   ///< "marginal": the datasets' names
  std::string title;  ///< "Marginal": the descriptions' and the summary's name of the measure
  /// What the individual flows are, completing "<title> inflow I_i of each run: what other
  /// individuals' training data did for i's deployment loss" (e.g. ", by leave-one-out retraining").
  std::string how;
  /// The descriptions of the entity flows inflow, outflow, self and matrix.
  std::array<std::string, 4> entity_what;
  /// Sampled estimates: also /flows/<name>/{inflow,outflow,self}_se, the standard error of each.
  bool standard_errors = false;
  /// The option that asks for it, for the documentation ("--marginal").
  std::string option = {};
};
const std::vector<AfterRunMeasure>& after_run_measures();
/// The declared after-run measure `name`, or null.
const AfterRunMeasure* find_after_run_measure(const std::string& name);

/// Shape of a results file: S splits x R seeds runs over N individuals, `steps` GD steps,
/// M examples.
struct Layout {
  int splits = 0;
  int seeds = 0;
  int steps = 0;
  std::int64_t individuals = 0;
  std::int64_t examples = 0;
  bool save_mask = false;
  /// The after-run measures the file holds (AfterRunMeasure::name, in after_run_measures()
  /// order): "marginal" with --marginal.
  std::vector<std::string> measures;
  bool individual_loss = true;  ///< the file has /runs/individual_deploy_loss (files from 0.2 on)
  std::int64_t entities = 0;    ///< E > 0: the file has the entity flows /flows/entity (--entities)
  bool arrival = false;         ///< the file has /individuals/arrival (--split-order time or time-per-user)
  bool digest = true;           ///< the file has /runs/digest (files from 0.4 on: each run's CRC-32)
  bool second_order = false;    ///< the file has the in-run Shapley flows to second order (--second-order)
  /// Whether the file holds the flows of after-run measure `name`.
  bool has(const std::string& name) const;
  /// Adds after-run measure `name` (kept in after_run_measures() order; no duplicate).
  void add(const std::string& name);
};

/// Version of the layout a file follows (root attribute `schema_version`; files without it are
/// version 1: no descriptions, units or dimension scales, numbers of the configuration as text,
/// /summary/single_run_* holding the used runs only).
constexpr long long kSchemaVersion = 2;

enum class Element { f64, u8, i64 };
hid_t native_type(Element e);
const char* element_name(Element e);  ///< "float64", "uint8", "int64" (numpy's names)

/// When a dataset is in a file.
enum class Presence {
  always,
  individual_loss,   ///< Layout::individual_loss
  save_mask,         ///< Layout::save_mask (--save-split-mask)
  measure,           ///< Layout::has(DatasetSchema::measure) (--marginal: "marginal")
  summary,           ///< once the file is summarised (end of a run, --summarize, --merge)
  summary_measure,   ///< summarised, and the file has the measure's flows
  entities,          ///< Layout::entities > 0 (--entities other than individual)
  entity_measure,    ///< Layout::entities > 0 and the measure (--entities with --marginal)
  arrival,           ///< Layout::arrival (a time-ordered split)
  digest,            ///< Layout::digest (files from 0.4 on)
  measure_digest,    ///< Layout::digest and the measure
  second_order,          ///< Layout::second_order (--second-order)
  entity_second_order,   ///< Layout::second_order and Layout::entities > 0
  summary_second_order,  ///< summarised, and Layout::second_order
};

/// A named axis. A dimension with coordinates is a dataset at `path` holding the coordinate of
/// each position (an HDF5 dimension scale named `name`); one without is a dimension scale that
/// only gives the axis its name and length (netCDF's "dimension but not a variable").
struct Dimension {
  std::string name, path;
  bool coordinates;
  Element element;
  std::string units, description;
  bool set_by_summary = false;  ///< its coordinates (and length) are written with the summary
};

struct DatasetSchema {
  std::string path;
  Element element;
  std::vector<std::string> dims;
  std::string units, description;
  Presence when;
  double fill = 0;  ///< value of the entries not written
  std::string measure = {};  ///< Presence::*measure*: the after-run measure (AfterRunMeasure::name)
};
/// When `d` is present: "always", "individual_loss", ...; for an after-run measure's datasets
/// the measure's name in place of "measure" ("marginal", "summary_marginal", "entity_marginal",
/// "marginal_digest").
std::string presence_name(const DatasetSchema& d);

/// Types of root attributes: numbers are stored as numbers; a switch (boolean) as the text
/// "true" or "false".
enum class AttributeType { text, boolean, integer, unsigned_integer, real };
const char* attribute_type_name(AttributeType t);  ///< "text", "bool", "int64", "uint64", "float64"

/// A root attribute. `config_<option>` attributes hold the options that determine the numbers.
struct AttributeSchema {
  std::string name;
  AttributeType type;
  std::string description;
};

const std::vector<Dimension>& dimensions();
/// The dimension `name`; throws std::out_of_range for an undeclared one.
const Dimension& dimension(const std::string& name);
/// Every dataset of the layout and of /summary (coordinates are in dimensions()).
const std::vector<DatasetSchema>& datasets();
/// The declared dataset at `path`, or null.
const DatasetSchema* find_dataset(const std::string& path);
const std::vector<AttributeSchema>& root_attributes();
/// The declared root attribute `name`, or null (undeclared attributes are text).
const AttributeSchema* find_attribute(const std::string& name);

/// Whether `d` belongs to a file of layout `L` before any summary (Presence::summary* never).
bool in_layout(const DatasetSchema& d, const Layout& L);
/// Whether `d` belongs to the summary of a file of layout `L`.
bool in_summary(const DatasetSchema& d, const Layout& L);
/// Length of dimension `name` in a file of layout `L` (not for those set by the summary: their
/// length is that of their coordinate dataset in the file).
hsize_t length(const std::string& name, const Layout& L);
std::vector<hsize_t> shape(const DatasetSchema& d, const Layout& L);

}  // namespace reciprocity::io
