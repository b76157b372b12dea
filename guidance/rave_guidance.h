// RAVE's guidance (ALGORITHMS §4.1.4, §4.6): G = 320 · mean_i (<n(f_i), n(r)> − τ)² for a fixed residual vector
// r and threshold τ, weighted 6 in the enhancer's loss.
#pragma once

#include "guidance/guidance.h"
#include "guidance/loss_weights.h"
#include "guidance/residual.h"

namespace rave::guidance {

class RaveGuidance : public Guidance {
 public:
  explicit RaveGuidance(ResidualVector vector);

  std::string method() const override { return "rave"; }
  torch::Tensor loss(const torch::Tensor& embeddings) override;
  double loss_weight() const override { return kRaveGuidanceWeight; }
  std::map<std::string, torch::Tensor> state() const override;
  void load_state(const std::map<std::string, torch::Tensor>& state, const std::string& source) override;
  void to(const torch::Device& device) override;

  const ResidualVector& vector() const { return vector_; }

 private:
  ResidualVector vector_;
  torch::Device device_ = torch::kCPU;
  torch::Tensor residual_device_;  // r on the compute device (undefined until a vector is set)
};

}  // namespace rave::guidance
