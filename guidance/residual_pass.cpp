#include "guidance/residual_pass.h"

#include <torch/torch.h>

#include "dist/mean_embedding.h"
#include "dist/progress.h"
#include "dist/shard_sampler.h"

namespace rave::guidance {
namespace {

struct ShardSum {
  torch::Tensor sum;  // float64 [D]
  int64_t count = 0;
};

// The sum of the unit embeddings of this rank's exact shard of `folder`.
ShardSum embed_shard(GuidanceEncoder& encoder, io::ImageFolder& folder, dist::Communicator& communicator,
                     const ResidualPassOptions& options, const std::string& label) {
  const dist::ShardSampler sampler(int64_t(folder.size()), communicator.rank(), communicator.world_size(), 0,
                                   dist::ShardMode::kExact);
  const std::vector<int64_t> items = sampler.shard(0);
  dist::Progress progress("embedding " + label, int64_t(items.size()),
                          options.show_progress && communicator.rank() == 0, "img");
  ShardSum result{torch::zeros({encoder.dim()}, torch::kFloat64), 0};
  torch::NoGradGuard no_grad;
  for (size_t start = 0; start < items.size(); start += size_t(options.batch_size)) {
    std::vector<torch::Tensor> batch;
    const size_t end = std::min(items.size(), start + size_t(options.batch_size));
    for (size_t i = start; i < end; ++i) {
      if (auto image = folder.read_u8(size_t(items[i]))) batch.push_back(encoder.preprocess_file_image(*image));
    }
    progress.advance(int64_t(end - start));
    if (batch.empty()) continue;
    const torch::Tensor embeddings = encoder.encode(torch::stack(batch).to(options.device)).to(torch::kFloat64);
    result.sum += (embeddings / embeddings.norm(2, 1, true)).sum(0).cpu();
    result.count += int64_t(batch.size());
  }
  return result;
}

}  // namespace

ResidualVector compute_residual(GuidanceEncoder& encoder, io::ImageFolder& backlit, io::ImageFolder& welllit,
                                dist::Communicator& communicator, const ResidualPassOptions& options) {
  const ShardSum neg = embed_shard(encoder, backlit, communicator, options, "backlit images");
  const ShardSum pos = embed_shard(encoder, welllit, communicator, options, "well-lit images");
  const dist::MeanEmbedding mean_neg = dist::all_reduce_mean_embedding(communicator, neg.sum, neg.count);
  const dist::MeanEmbedding mean_pos = dist::all_reduce_mean_embedding(communicator, pos.sum, pos.count);
  return residual_from_sums(mean_pos.sum, mean_pos.count, mean_neg.sum, mean_neg.count);
}

}  // namespace rave::guidance
