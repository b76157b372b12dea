// The enhancer's training batches (ALGORITHMS §3.2): each item is decoded, resized to S x S with PIL's Lanczos,
// augmented (§3.3) and scaled to [0,1]. Worker threads prepare batches ahead of the training loop in a bounded
// queue, so that compute never waits for JPEG decoding. Items come from this rank's ShardSampler; every item's
// random draws are seeded from (seed, epoch, item), so a batch is the same whichever thread made it and
// however many ranks share the dataset.
#pragma once

#include <torch/types.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "dist/shard_sampler.h"
#include "io/augment.h"
#include "io/dataset.h"

namespace rave::io {

// More decoding threads than this is a typo, not a machine.
constexpr int kMaxLoaderThreads = 256;

struct BatchLoaderOptions {
  int64_t image_size = 512;
  int64_t batch_size = 8;
  int threads = 4;
  int prefetch_batches = 4;
  uint64_t seed = 1143;
  bool augment = true;
  AugmentRanges ranges;  // zoom 0.7-1.3 for the enhancer loader
};

struct Batch {
  torch::Tensor images;          // float32 [b, 3, S, S]; b < batch_size when unreadable files were skipped
  std::vector<int64_t> items;    // dataset indices of the images, in order
  dist::SamplerState next_state;  // the sampler state after this batch: what a checkpoint stores for resume
};

class BatchLoader {
 public:
  // `folder` must outlive the loader. The sampler's current state is where the first batch starts.
  BatchLoader(ImageFolder& folder, dist::ShardSampler sampler, const BatchLoaderOptions& options);
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  // The next batch in sampler order; blocks until it is ready. Rethrows a worker's error.
  Batch next();

 private:
  struct Job {
    int64_t number;
    std::vector<int64_t> items;
    std::vector<int64_t> epochs;
    dist::SamplerState next_state;
  };
  void work();
  // Tells the workers to finish and joins them.
  void stop_workers();
  Batch make(const Job& job);
  // One training image: decode, Lanczos resize, augmentation, [0,1]; nullopt when the file is unreadable.
  std::optional<torch::Tensor> load_item(int64_t item, int64_t epoch);

  ImageFolder& folder_;
  dist::ShardSampler sampler_;
  BatchLoaderOptions options_;

  std::mutex mutex_;
  std::condition_variable changed_;
  int64_t next_job_ = 0;       // next batch number a worker will take
  int64_t next_delivered_ = 0;  // next batch number next() returns
  std::map<int64_t, Batch> ready_;
  std::exception_ptr error_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace rave::io
