// The loss of one enhancer step on one rank's batch (ALGORITHMS §4.2.2), what `rave train` minimises:
//   E    = clamp(x / (L + 1e-9), 0, 1), L the enhancer's light map of x;
//   L_id = 25 · D(E, x) through the identity encoder's taps: a *sum* over the batch (reconstruction weights
//          during the warm-up, [1,1,1,1,0.5] after it);
//   G    = the guidance term of the method on the guidance encoder's embeddings of E: a *mean* over the batch;
//   loss = L_id during the warm-up, else w·G + 0.9·L_id (w = 6 for RAVE, 1 for CLIP-LIT).
// Across ranks the trainer averages the gradients (PyTorch DDP's semantics), so N ranks with batch b take the
// gradient of the mean of their N losses: the reference's step at batch b with N times the data, not one process
// at batch N·b (whose identity sum would run over N·b images). tests/mpi/enhancer_loss_test.cpp asserts this.
//
// --precision bf16 runs the enhancer and the encoders under autocast (their backward follows the same casts).
// Their outputs come back as float32, so that the parameters, their gradients, Adam and the loss arithmetic stay
// float32 (a bf16 cosine has ~3 significant digits, and the RAVE loss squares its small distance to tau).
#pragma once

#include <torch/types.h>

#include "guidance/encoders.h"
#include "guidance/guidance.h"
#include "guidance/loss_weights.h"
#include "models/clip/precision.h"
#include "models/enhancer.h"

namespace rave::guidance {

struct EnhancerLoss {
  torch::Tensor loss;      // what the step minimises
  torch::Tensor guidance;  // G (zero during the warm-up)
  torch::Tensor identity;  // L_id
  torch::Tensor enhanced;  // E
};

// `guidance` is only used after the warm-up (`warm_up` false).
EnhancerLoss enhancer_loss(models::Enhancer& enhancer, GuidanceEncoder& guidance_encoder,
                           IdentityEncoder& identity_encoder, Guidance& guidance, const torch::Tensor& x, bool warm_up,
                           models::Precision precision = models::Precision::kFloat32);

}  // namespace rave::guidance
