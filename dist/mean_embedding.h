// The mean of embeddings spread over the ranks (the residual pass: each rank embeds its shard of images).
// Each rank sums its unit embeddings in float64; one all-reduce of sums and counts gives every rank the same
// global mean, independent of the number of ranks up to float64 rounding.
#pragma once

#include <torch/types.h>

#include <cstdint>

#include "dist/communicator.h"

namespace rave::dist {

struct MeanEmbedding {
  torch::Tensor mean;  // float64, shape of the sums
  torch::Tensor sum;   // float64, the sum over all ranks
  int64_t count = 0;   // items over all ranks
};

// `sum`: this rank's sum of `count` embeddings (any shape; converted to float64). A rank may hold none
// (count 0, sum of zeros); throws Error when no rank holds any.
MeanEmbedding all_reduce_mean_embedding(Communicator& communicator, const torch::Tensor& sum, int64_t count);

}  // namespace rave::dist
