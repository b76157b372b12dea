#include "dist/mean_embedding.h"

#include <torch/torch.h>

#include "core/error.h"

namespace rave::dist {

MeanEmbedding all_reduce_mean_embedding(Communicator& communicator, const torch::Tensor& sum, int64_t count) {
  // Sums and count in one float64 buffer, one collective (counts are exact in float64 up to 2^53).
  auto buffer = torch::cat({sum.to(torch::kFloat64).reshape(-1),
                            torch::full({1}, static_cast<double>(count), sum.options().dtype(torch::kFloat64))});
  communicator.all_reduce_sum(buffer);
  MeanEmbedding result;
  result.count = static_cast<int64_t>(buffer[-1].item<double>());
  if (result.count == 0) {
    throw Error("mean embedding over no items: every rank's shard was empty", "check the image folders");
  }
  result.sum = buffer.narrow(0, 0, sum.numel()).view(sum.sizes());
  result.mean = result.sum / static_cast<double>(result.count);
  return result;
}

}  // namespace rave::dist
