#include "reciprocity/model/model.hpp"

#include "reciprocity/core/error.hpp"
#include "reciprocity/model/glm.hpp"
#include "reciprocity/model/mf.hpp"

namespace reciprocity::model {

std::unique_ptr<Model> make_model(data::Task task, const ModelParams& params) {
  switch (task) {
    case data::Task::Recommender: return std::make_unique<MatrixFactorization>(params);
    case data::Task::Regression: return std::make_unique<GeneralizedLinear>(false, params.clip);
    case data::Task::Classification: return std::make_unique<GeneralizedLinear>(true, params.clip);
  }
  return nullptr;
}

void Model::group_sums(const std::vector<std::uint8_t>&, const std::vector<std::int32_t>&, double*, double*,
                       double*) const {
  throw ConfigError("entity flows are not available for the model " + name());
}

void Model::perturb(double, const RunKey&, int) {
  throw ConfigError("gradient noise (--noise-multiplier) is not available for the model " + name());
}

}  // namespace reciprocity::model
