#include "guidance/losses.h"

#include <torch/torch.h>

#include "core/error.h"

namespace rave::guidance {
namespace {

namespace F = torch::nn::functional;

torch::Tensor unit(const torch::Tensor& v) { return F::normalize(v, F::NormalizeFuncOptions().dim(-1).eps(0)); }

void check_features(const torch::Tensor& features, int64_t dim, const char* what) {
  if (features.dim() != 2 || features.size(1) != dim) {
    throw Error(std::string(what) + ": expected features [B, " + std::to_string(dim) + "], got " +
                c10::str(features.sizes()));
  }
}

}  // namespace

torch::Tensor guidance_logits(const torch::Tensor& features, const torch::Tensor& pair) {
  if (pair.dim() != 2 || pair.size(0) != 2) throw Error("guidance pair: expected [2, D], got " + c10::str(pair.sizes()));
  check_features(features, pair.size(1), "guidance logits");
  return kGuidanceLogitScale * torch::matmul(features, unit(pair).t());
}

torch::Tensor backlit_probability(const torch::Tensor& features, const torch::Tensor& pair) {
  return torch::softmax(guidance_logits(features, pair), /*dim=*/1).select(1, 0);
}

torch::Tensor clip_lit_loss(const torch::Tensor& features, const torch::Tensor& pair) {
  return kGuidanceLossWeight * backlit_probability(unit(features), pair).mean();
}

torch::Tensor rave_loss(const torch::Tensor& features, const torch::Tensor& residual, double tau) {
  check_features(features, residual.numel(), "RAVE loss");
  const torch::Tensor cosine = torch::matmul(unit(features), unit(residual.reshape({-1})));
  return kGuidanceLossWeight * (cosine - tau).square().mean();
}

torch::Tensor identity_distance(const std::vector<torch::Tensor>& enhanced_taps,
                                const std::vector<torch::Tensor>& input_taps, const std::vector<double>& weights) {
  if (enhanced_taps.size() != weights.size() || input_taps.size() != weights.size()) {
    throw Error("identity distance: " + std::to_string(weights.size()) + " weights for " +
                std::to_string(enhanced_taps.size()) + " and " + std::to_string(input_taps.size()) + " feature taps");
  }
  torch::Tensor total;
  for (size_t k = 0; k < weights.size(); ++k) {
    // Per-sample mean over C*h*w, then summed over the batch: the reference's reduction.
    const torch::Tensor per_sample = (enhanced_taps[k] - input_taps[k]).square().flatten(1).mean(1);
    const torch::Tensor term = weights[k] * per_sample.sum();
    total = total.defined() ? total + term : term;
  }
  return total;
}

torch::Tensor margin_ranking(const torch::Tensor& a, const torch::Tensor& b, double margin) {
  return torch::clamp_min(margin - (a - b), 0).mean();
}

torch::Tensor ranking_loss(const torch::Tensor& s_input, const torch::Tensor& s_reference, const torch::Tensor& s_semi1,
                           const torch::Tensor& s_semi2) {
  if (s_semi2.defined() && !s_semi1.defined()) throw Error("ranking loss: a second semi result needs a first one");
  if (!s_semi1.defined()) return kRankingLossWeight * margin_ranking(s_input, s_reference, 1.0);
  if (!s_semi2.defined()) {
    return kRankingLossWeight * (margin_ranking(s_input, s_reference, 0.9) + margin_ranking(s_input, s_semi1, 0.9) +
                                 margin_ranking(s_semi1, s_reference, 0.2));
  }
  return kRankingLossWeight * (margin_ranking(s_input, s_reference, 0.9) + margin_ranking(s_input, s_semi1, 0.9) +
                               margin_ranking(s_semi1, s_semi2, 0.1) + margin_ranking(s_semi2, s_reference, 0.1));
}

torch::Tensor guidance_init_loss(const torch::Tensor& unit_features, const torch::Tensor& labels,
                                 const torch::Tensor& pair) {
  return F::cross_entropy(guidance_logits(unit_features, pair), labels.to(torch::kLong));
}

}  // namespace rave::guidance
