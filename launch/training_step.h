// One enhancer training step, as every rank of `rave train` takes it and as `rave bench step` times it (one
// function for both, so that the benchmark measures the trainer's own step): the method's loss on this rank's
// batch (guidance/enhancer_loss.h), backward, gradients averaged over the ranks, Adam, and the step's numbers
// averaged over the ranks so that every rank's schedule takes the same decisions.
//
// The numbers are read back to the host (item()), so the step ends synchronised with the device: timing it
// needs no extra synchronisation on CUDA.
#pragma once

#include <torch/optim/adam.h>
#include <torch/types.h>

#include "dist/communicator.h"
#include "dist/gradient_reducer.h"
#include "guidance/encoders.h"
#include "guidance/guidance.h"
#include "models/clip/precision.h"
#include "models/enhancer.h"

namespace rave::launch {

// What one step trains and with what; the trainer re-creates the enhancer and its optimiser on a
// re-initialisation, so the parts are gathered per step rather than held.
struct TrainingParts {
  models::Enhancer& enhancer;
  guidance::GuidanceEncoder& guidance_encoder;
  guidance::IdentityEncoder& identity_encoder;
  guidance::Guidance& guidance;  // unused during the warm-up
  torch::optim::Adam& optimizer;
  dist::GradientReducer& reducer;
  dist::Communicator& communicator;
  models::Precision precision = models::Precision::kFloat32;
};

// One step's numbers, averaged over the ranks.
struct StepNumbers {
  double loss = 0, guidance = 0, identity = 0, psnr_y = 0;
  double extension = 0;  // G + 0.9 L_id: what decides a round's extension
};

// `warm_up`: the reconstruction stage (identity loss only).
StepNumbers training_step(const TrainingParts& parts, const torch::Tensor& x, bool warm_up);

}  // namespace rave::launch
