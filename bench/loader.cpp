#include "bench/loader.h"

#include <algorithm>
#include <string>

#include "bench/report.h"
#include "bench/tasks.h"
#include "bench/timing.h"
#include "core/error.h"
#include "dist/shard_sampler.h"
#include "io/batch_loader.h"
#include "io/dataset.h"

namespace rave::bench {
namespace {

// Images delivered by `batches` calls of next() and the seconds they took.
nlohmann::ordered_json timed(io::BatchLoader& loader, int64_t batches) {
  const Clock::time_point start = Clock::now();
  int64_t images = 0;
  for (int64_t i = 0; i < batches; ++i) images += int64_t(loader.next().items.size());
  const double seconds = seconds_since(start);
  return {{"batches", batches},
          {"images", images},
          {"seconds", rounded(seconds)},
          {"images_per_second", rounded(double(images) / seconds, 10)}};
}

}  // namespace

nlohmann::ordered_json loader_benchmark(const LoaderBenchmarkOptions& options) {
  if (options.batches < 0) {
    throw UsageError("--batches " + std::to_string(options.batches) + " is negative", "0 runs two epochs");
  }
  io::ImageFolder folder(options.folder, io::kTrainingExifOrientation);
  const auto sampler = [&] { return dist::ShardSampler(int64_t(folder.size()), 0, 1, io::BatchLoaderOptions{}.seed); };
  io::BatchLoaderOptions loading;
  loading.image_size = options.image_size;
  loading.batch_size = options.batch_size;
  loading.threads = options.threads;
  loading.device = options.device;
  nlohmann::ordered_json j;
  j["bench"] = "loader";
  j["folder"] = options.folder;
  j["files"] = folder.size();
  j["image_size"] = options.image_size;
  j["batch_size"] = options.batch_size;
  j["loader_threads"] = options.threads;
  int64_t epoch = 0, total = 0;
  {
    io::BatchLoader loader(folder, sampler(), loading);  // checks the sizes and the thread count
    // The batches that cover the first epoch (the last one may reach into the second) decode every file.
    epoch = (int64_t(folder.size()) + options.batch_size - 1) / options.batch_size;
    total = options.batches > 0 ? options.batches : 2 * epoch;
    j["first_epoch"] = timed(loader, std::min(epoch, total));
    j["cached"] = total > epoch ? timed(loader, total - epoch) : nlohmann::ordered_json();
    const io::ResizedImageCacheStats stats = loader.cache_stats();
    j["cache_mib"] = rounded(stats.cached_mib, 10);
    j["cached_images"] = stats.cached;
    j["decodes"] = stats.decodes;
  }
  loading.cache_mib = 0;
  io::BatchLoader uncached(folder, sampler(), loading);
  j["no_cache"] = timed(uncached, std::min(epoch, total));
  if (!j["cached"].is_null()) {
    j["speedup"] = rounded(j["cached"]["images_per_second"].get<double>() /
                               j["no_cache"]["images_per_second"].get<double>(),
                           10);
  }
  return j;
}

namespace {

using io::po::value;

void declare(io::OptionSet& options) {
  options.flags()
      ("folder", value<std::string>(), "folder of training images")
      ("image-size", value<int64_t>()->default_value(512), "training image side in pixels")
      ("batch", value<int64_t>()->default_value(8), "images per batch")
      ("loader-threads", value<int>()->default_value(2), "decoding threads")
      ("batches", value<int64_t>()->default_value(0), "batches to time (0: two epochs)");
}

int run(const launch::Invocation& invocation) {
  const auto& o = invocation.options;
  LoaderBenchmarkOptions options;
  options.folder = io::required_value(o, "folder", "rave bench loader");
  options.image_size = o["image-size"].as<int64_t>();
  options.batch_size = o["batch"].as<int64_t>();
  options.threads = o["loader-threads"].as<int>();
  options.batches = o["batches"].as<int64_t>();
  options.device = invocation.context->device();
  return report(invocation, loader_benchmark(options));
}

}  // namespace

launch::Command loader_task() {
  return {"loader", "images/s of the training loader per rank, first epoch and cached (JSON)", true, declare, run};
}

}  // namespace rave::bench
