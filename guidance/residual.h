// The RAVE residual vector from the embedding sums of the well-lit (positive) and backlit (negative) images
// (ALGORITHMS §4.6.1): v_pos = n(mean of unit embeddings), v_neg likewise, r = n(v_pos - v_neg),
// tau = <v_pos, r>. Sums are float64 so that the result does not depend on how the images were split
// across ranks; the distributed pass all-reduces the sums and counts before calling this.
#pragma once

#include <torch/types.h>

namespace rave::guidance {

struct ResidualVector {
  torch::Tensor residual;  // r [D], float32, unit norm
  torch::Tensor v_pos;     // [D]
  torch::Tensor v_neg;     // [D]
  double tau = 0;
  int64_t n_pos = 0;
  int64_t n_neg = 0;
};

// `sum_pos`, `sum_neg`: sums of unit embeddings [D] (any floating dtype; computed in float64).
ResidualVector residual_from_sums(const torch::Tensor& sum_pos, int64_t n_pos, const torch::Tensor& sum_neg,
                                  int64_t n_neg);

}  // namespace rave::guidance
