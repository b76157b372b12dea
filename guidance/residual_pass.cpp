#include "guidance/residual_pass.h"

#include <torch/torch.h>

#include <algorithm>
#include <array>

#include "core/progress.h"
#include "dist/mean_embedding.h"
#include "dist/shard_sampler.h"
#include "guidance/ordered_workers.h"

namespace rave::guidance {
namespace {

// One image of the pass: file `index` of the backlit (0) or the well-lit (1) folder.
struct Item {
  int folder;
  int64_t index;
};

// What one batch adds to each folder: the float64 sum of its unit embeddings and the number of images read.
struct BatchSums {
  std::array<torch::Tensor, 2> sum;
  std::array<int64_t, 2> count{};
};

// Runs on a worker: decodes, preprocesses and encodes the readable images of `batch`.
BatchSums embed_batch(GuidanceEncoder& encoder, const std::array<io::ImageFolder*, 2>& folders,
                      const std::vector<Item>& batch, const torch::Device& device) {
  torch::NoGradGuard no_grad;  // per thread
  std::vector<torch::Tensor> images;
  std::array<std::vector<int64_t>, 2> rows;  // of each folder's images in `images`
  for (const Item& item : batch) {
    if (auto image = folders[size_t(item.folder)]->read_u8(size_t(item.index))) {
      rows[size_t(item.folder)].push_back(int64_t(images.size()));
      images.push_back(encoder.preprocess_file_image(*image));
    }
  }
  BatchSums sums;
  torch::Tensor unit = torch::zeros({0, encoder.dim()}, torch::kFloat64);
  if (!images.empty()) {
    const torch::Tensor embeddings = encoder.encode(torch::stack(images).to(device)).to(torch::kFloat64);
    unit = (embeddings / embeddings.norm(2, 1, true)).cpu();
  }
  for (size_t folder = 0; folder < 2; ++folder) {
    sums.sum[folder] = unit.index_select(0, torch::tensor(rows[folder], torch::kLong)).sum(0);
    sums.count[folder] = int64_t(rows[folder].size());
  }
  return sums;
}

}  // namespace

ResidualVector compute_residual(GuidanceEncoder& encoder, io::ImageFolder& backlit, io::ImageFolder& welllit,
                                dist::Communicator& communicator, const ResidualPassOptions& options) {
  const std::array<io::ImageFolder*, 2> folders{&backlit, &welllit};
  std::vector<Item> items;
  for (int folder = 0; folder < 2; ++folder) {
    const dist::ShardSampler sampler(int64_t(folders[size_t(folder)]->size()), communicator.rank(),
                                     communicator.world_size(), 0, dist::ShardMode::kExact);
    for (const int64_t index : sampler.shard(0)) items.push_back({folder, index});
  }
  // Items are dealt to the batches in turn, so that costly files (the large JPEGs of a folder) spread over the
  // workers instead of filling the first batches. Which image lands in which batch follows from the number of
  // images and of threads alone.
  const int threads = std::max(1, torch::get_num_threads());
  const int64_t count = balanced_batch_count(int64_t(items.size()), threads, options.batch_size);
  std::vector<std::vector<Item>> batches(static_cast<size_t>(count));
  for (size_t i = 0; i < items.size(); ++i) batches[i % batches.size()].push_back(items[i]);

  core::Progress progress("embedding backlit and well-lit images", int64_t(items.size()),
                          options.show_progress && communicator.rank() == 0, "img");
  // Added to in place: two tensors, not one.
  std::array<torch::Tensor, 2> sum{torch::zeros({encoder.dim()}, torch::kFloat64),
                                   torch::zeros({encoder.dim()}, torch::kFloat64)};
  std::array<int64_t, 2> read{};
  if (count > 0) {
    const int workers = int(std::min<int64_t>(count, threads));
    const ScopedComputeThreads per_worker(threads / workers);
    run_ordered(
        count, workers,
        [&](int64_t b) { return embed_batch(encoder, folders, batches[size_t(b)], options.device); },
        [&](int64_t b, BatchSums&& batch) {
          for (size_t folder = 0; folder < 2; ++folder) {
            sum[folder] += batch.sum[folder];
            read[folder] += batch.count[folder];
          }
          progress.advance(int64_t(batches[size_t(b)].size()));
        });
  }
  progress.finish();
  const dist::MeanEmbedding mean_neg = dist::all_reduce_mean_embedding(communicator, sum[0], read[0]);
  const dist::MeanEmbedding mean_pos = dist::all_reduce_mean_embedding(communicator, sum[1], read[1]);
  return residual_from_sums(mean_pos.sum, mean_pos.count, mean_neg.sum, mean_neg.count);
}

}  // namespace rave::guidance
