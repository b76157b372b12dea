// Throughput of the training data loader (io::BatchLoader, as `rave train` builds it) on one rank: images per
// second in the first epoch, which decodes and Lanczos-resizes every file, and after it, when the resized images
// come from the loader's cache; then one epoch without the cache (every access decodes and resizes again, the
// loader before issue 16) for comparison, and the MiB the cache holds. `rave bench loader` prints it.
#pragma once

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include <cstdint>
#include <string>

namespace rave::bench {

struct LoaderBenchmarkOptions {
  std::string folder;
  int64_t image_size = 512;
  int64_t batch_size = 8;
  int threads = 2;
  int64_t batches = 0;  // 0: two epochs
  torch::Device device = torch::kCPU;  // where the batches go (pinned, non-blocking copies for CUDA)
};

// UsageError for sizes, counts or threads that are not positive; IoError for a folder without a readable image.
nlohmann::ordered_json loader_benchmark(const LoaderBenchmarkOptions& options);

}  // namespace rave::bench
