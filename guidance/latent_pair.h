// CLIP-LIT-Latent's learned vectors (ALGORITHMS §4.4): a parameter G [2, D] drawn i.i.d. N(0, 1) (not
// normalised) that is the guidance pair itself, directly in the guidance encoder's embedding space; no text
// tower involved.
#pragma once

#include "guidance/learned_pair.h"

namespace rave::guidance {

class LatentPair : public LearnedPair {
 public:
  // Draws from torch's current seed: seed every rank alike (the trainer broadcasts rank 0's values anyway).
  explicit LatentPair(int64_t dim);

  std::string method() const override { return "clip-lit-latent"; }
  torch::Tensor vectors() override { return parameter_; }
  double default_learning_rate() const override { return 5e-4; }
};

}  // namespace rave::guidance
