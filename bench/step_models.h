// The models of one RAVE training step with random weights, for `rave bench step` and `rave bench smoke`: the
// enhancer (zero padding, as trained), its Adam, a frozen CLIP ViT (guidance) and a frozen CLIP ModifiedResNet
// (identity taps), a unit residual vector and a batch of random images. "full" is CLIP's ViT-B/32 and RN101 (the
// cost of a real run: the values do not change it); "tiny" is a few layers of each, for tests.
//
// Everything is drawn on the CPU from one seed and then moved, so the same seed gives the same step on every
// device, and save_step_models() writes it all to one HDF5 file from which bench/rave_reference.py builds the
// same step in PyTorch (same work, checked by comparing the first losses).
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>

#include "dist/communicator.h"
#include "dist/gradient_reducer.h"
#include "guidance/clip_encoders.h"
#include "guidance/rave_guidance.h"
#include "launch/training_step.h"
#include "models/clip/clip_model.h"
#include "models/enhancer.h"

namespace rave::bench {

struct StepModels {
  std::string encoders;  // "full" or "tiny"
  models::ClipModel vit{nullptr};
  models::ClipModel resnet{nullptr};
  std::unique_ptr<guidance::ClipGuidanceEncoder> guidance_encoder;
  std::unique_ptr<guidance::ClipIdentityEncoder> identity_encoder;
  std::unique_ptr<guidance::RaveGuidance> guidance;
  models::Enhancer enhancer{nullptr};
  std::unique_ptr<torch::optim::Adam> optimizer;
  std::unique_ptr<dist::GradientReducer> reducer;
  torch::Tensor x;  // [batch, 3, size, size] in [0, 1]

  // The parts launch::training_step takes, with `communicator` (the reducer's).
  launch::TrainingParts parts(dist::Communicator& communicator, models::Precision precision);
};

// UsageError for an unknown `encoders`.
// The encoders are drawn from seed 0, the enhancer, images and vector from `seed`: a freshly drawn enhancer can
// output a light map that is zero everywhere (its last layer is a ReLU), and then E = clamp(x / 1e-9) is 1 at
// every pixel, no gradient reaches the enhancer and the step trains nothing (seed 0 does that). `tau` is the
// vector's threshold (bench/rave_reference.py's is 0.2).
constexpr uint64_t kStepSeed = 1;
StepModels make_step_models(const std::string& encoders, int64_t batch, int64_t size, const torch::Device& device,
                            dist::Communicator& communicator, uint64_t seed = kStepSeed, double tau = 0.2);

// The enhancer (enhancer/*), the visual towers (vit/*, resnet/*, with their configurations as JSON in
// vit_config and resnet_config), the images (x) and the vector (residual, tau), as they are now.
void save_step_models(const std::string& path, const StepModels& models);

}  // namespace rave::bench
