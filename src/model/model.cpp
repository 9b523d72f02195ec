#include "reciprocity/model/model.hpp"

#include "reciprocity/model/glm.hpp"
#include "reciprocity/model/mf.hpp"

namespace reciprocity::model {

std::unique_ptr<Model> make_model(data::Task task, const ModelParams& params) {
  switch (task) {
    case data::Task::Recommender: return std::make_unique<MatrixFactorization>(params);
    case data::Task::Regression: return std::make_unique<GeneralizedLinear>(false);
    case data::Task::Classification: return std::make_unique<GeneralizedLinear>(true);
  }
  return nullptr;
}

}  // namespace reciprocity::model
