#include "guidance/enhancer_loss.h"

#include <torch/torch.h>

#include <vector>

#include "guidance/losses.h"

namespace rave::guidance {
namespace {

std::vector<torch::Tensor> float32_taps(IdentityEncoder& encoder, const torch::Tensor& images,
                                        models::Precision precision) {
  models::AutocastGuard autocast(precision, images.device());
  std::vector<torch::Tensor> taps = encoder.taps(images);
  for (auto& tap : taps) tap = tap.to(torch::kFloat32);
  return taps;
}

}  // namespace

EnhancerLoss enhancer_loss(models::Enhancer& enhancer, GuidanceEncoder& guidance_encoder,
                           IdentityEncoder& identity_encoder, Guidance& guidance, const torch::Tensor& x, bool warm_up,
                           models::Precision precision) {
  EnhancerLoss out;
  torch::Tensor light;
  {
    models::AutocastGuard autocast(precision, x.device());
    light = enhancer->forward(x).to(torch::kFloat32);
  }
  out.enhanced = models::apply_light_map(x, light);
  std::vector<torch::Tensor> input_taps;
  {
    torch::NoGradGuard no_grad;  // the input branch of the identity loss needs no gradient
    input_taps = float32_taps(identity_encoder, x, precision);
  }
  out.identity =
      kIdentityLossWeight * identity_distance(float32_taps(identity_encoder, out.enhanced, precision), input_taps,
                                              warm_up ? kReconstructionWeights : kIdentityWeights);
  if (warm_up) {
    out.guidance = torch::zeros({}, x.options());
    out.loss = out.identity;
    return out;
  }
  torch::Tensor embeddings;
  {
    models::AutocastGuard autocast(precision, x.device());
    embeddings = guidance_encoder.embed(out.enhanced).to(torch::kFloat32);
  }
  out.guidance = guidance.loss(embeddings);
  out.loss = guidance.loss_weight() * out.guidance + kIdentityTermWeight * out.identity;
  return out;
}

}  // namespace rave::guidance
