#include "guidance/rave_guidance.h"

#include <torch/torch.h>

#include "dist/error.h"
#include "guidance/losses.h"

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
  for (const char* key : {"residual", "v_pos", "v_neg", "tau", "n_pos", "n_neg"}) {
    if (!state.count(key)) throw IoError(source + ": missing dataset 'guidance/" + std::string(key) + "'");
  }
  vector_.residual = state.at("residual").to(torch::kFloat32);
  vector_.v_pos = state.at("v_pos").to(torch::kFloat32);
  vector_.v_neg = state.at("v_neg").to(torch::kFloat32);
  vector_.tau = state.at("tau").item<double>();
  vector_.n_pos = state.at("n_pos").item<int64_t>();
  vector_.n_neg = state.at("n_neg").item<int64_t>();
  residual_device_ = vector_.residual.to(device_);
}

}  // namespace rave::guidance
