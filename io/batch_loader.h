// The enhancer's training batches (ALGORITHMS §3.2): each item is decoded, resized to S x S with PIL's Lanczos,
// augmented (§3.3) and scaled to [0,1]. Worker threads prepare batches ahead of the training loop in a bounded
// queue, so that compute never waits for JPEG decoding; each file is decoded and resized once per rank and then
// served from a ResizedImageCache (the cost and the cap are described there). Items come from this rank's
// ShardSampler; every item's random draws are seeded from (seed, epoch, item), so a batch is the same whichever
// thread made it and however many ranks share the dataset.
//
// Batches are assembled as uint8, a quarter of float32's bytes to copy; for a CUDA device in pinned memory, copied
// without blocking the host (the step's kernels queue behind the copy) and turned into floats on the GPU.
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
#include "io/resized_image_cache.h"

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
  int64_t cache_mib = 2048;  // resized images kept per rank (ResizedImageCache); 0: decode at every access
  torch::Device device = torch::kCPU;  // where Batch::images arrive
};

struct Batch {
  torch::Tensor images;          // float32 [b, 3, S, S] on the options' device; b < batch_size when unreadable files
                                 // were skipped
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

  ResizedImageCacheStats cache_stats() const { return cache_.stats(); }

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
  // The batch's images as uint8 [b, 3, S, S] (pinned for a CUDA device), in floats when the device is the CPU.
  Batch make(const Job& job);
  // One training image, uint8 [S, S, 3]: resized (from the cache), augmented; nullopt when the file is unreadable.
  std::optional<torch::Tensor> load_item(int64_t item, int64_t epoch);
  // uint8 -> float32 v / 255 on the tensor's device, the values of to_float_chw.
  torch::Tensor to_float(const torch::Tensor& u8) const;

  dist::ShardSampler sampler_;
  BatchLoaderOptions options_;
  ResizedImageCache cache_;
  torch::Tensor float_of_u8_;  // float32 [256] on the device: to_float_chw of every level, computed on the CPU

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
