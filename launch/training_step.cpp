#include "launch/training_step.h"

#include <torch/torch.h>

#include "analysis/metrics/metrics.h"
#include "guidance/enhancer_loss.h"

namespace rave::launch {

StepNumbers training_step(const TrainingParts& parts, const torch::Tensor& x, bool warm_up) {
  const guidance::EnhancerLoss terms = guidance::enhancer_loss(parts.enhancer, parts.guidance_encoder,
                                                               parts.identity_encoder, parts.guidance, x, warm_up,
                                                               parts.precision);
  parts.optimizer.zero_grad();
  terms.loss.backward();
  parts.reducer.reduce();
  parts.optimizer.step();

  const double psnr = analysis::psnr_y(x, terms.enhanced.detach()).mean().item<double>();
  const double g = terms.guidance.item<double>(), identity = terms.identity.item<double>();
  torch::Tensor numbers = torch::tensor(
      {terms.loss.item<double>(), g, identity, psnr, g + guidance::kIdentityTermWeight * identity}, torch::kFloat64);
  parts.communicator.all_reduce_sum(numbers);
  numbers /= double(parts.communicator.world_size());
  const auto n = numbers.accessor<double, 1>();
  return {n[0], n[1], n[2], n[3], n[4]};
}

}  // namespace rave::launch
