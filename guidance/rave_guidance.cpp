#include "guidance/rave_guidance.h"

#include <torch/torch.h>

#include "core/error.h"
#include "guidance/losses.h"
#include "io/checkpoint.h"

namespace rave::guidance {

RaveGuidance::RaveGuidance(ResidualVector vector) : vector_(std::move(vector)), residual_device_(vector_.residual) {}

void RaveGuidance::to(const torch::Device& device) {
  device_ = device;
  if (vector_.residual.defined()) residual_device_ = vector_.residual.to(device);
}

torch::Tensor RaveGuidance::loss(const torch::Tensor& embeddings) {
  return rave_loss(embeddings, residual_device_, vector_.tau);
}

std::map<std::string, torch::Tensor> RaveGuidance::state() const {
  return {{"residual", vector_.residual},
          {"v_pos", vector_.v_pos},
          {"v_neg", vector_.v_neg},
          {"tau", torch::tensor(vector_.tau, torch::kFloat64)},
          {"n_pos", torch::tensor(vector_.n_pos, torch::kInt64)},
          {"n_neg", torch::tensor(vector_.n_neg, torch::kInt64)}};
}

void RaveGuidance::load_state(const std::map<std::string, torch::Tensor>& state, const std::string& source) {
  const auto at = [&](const char* key, const std::optional<std::vector<int64_t>>& shape) -> const torch::Tensor& {
    return io::dataset_at(state, key, source, "guidance", shape);
  };
  const torch::Tensor& residual = at("residual", std::nullopt);
  if (residual.dim() != 1) {
    throw IoError(source + ": dataset '/guidance/residual' has shape " + c10::str(residual.sizes()) +
                      ", expected one dimension [D]",
                  "the checkpoint is damaged");
  }
  const std::vector<int64_t> vector_shape{residual.size(0)};
  vector_.residual = residual.to(torch::kFloat32);
  vector_.v_pos = at("v_pos", vector_shape).to(torch::kFloat32);
  vector_.v_neg = at("v_neg", vector_shape).to(torch::kFloat32);
  vector_.tau = at("tau", io::kScalarShape).item<double>();
  vector_.n_pos = at("n_pos", io::kScalarShape).item<int64_t>();
  vector_.n_neg = at("n_neg", io::kScalarShape).item<int64_t>();
  residual_device_ = vector_.residual.to(device_);
}

}  // namespace rave::guidance
