#include "io/batch_loader.h"

#include <c10/core/DeviceGuard.h>
#include <torch/torch.h>

#include <string>
#include <system_error>

#include "core/error.h"
#include "dist/random.h"
#include "io/image.h"

namespace rave::io {

BatchLoader::BatchLoader(ImageFolder& folder, dist::ShardSampler sampler, const BatchLoaderOptions& options)
    : sampler_(std::move(sampler)),
      options_(options),
      cache_(folder, options.image_size, options.cache_mib),
      float_of_u8_(to_float_chw(torch::arange(256).to(torch::kUInt8).view({256, 1, 1})).flatten().to(options.device)) {
  if (options.batch_size <= 0 || options.image_size <= 0 || options.threads <= 0 || options.prefetch_batches <= 0) {
    throw UsageError("batch loader: batch size, image size, threads and prefetch must be positive");
  }
  if (options.cache_mib < 0) {
    throw UsageError("--loader-cache-mib " + std::to_string(options.cache_mib) + " is negative",
                     "give the MiB of resized images each rank may keep, or 0 to decode every image at every access");
  }
  if (options.threads > kMaxLoaderThreads) {
    throw UsageError("--loader-threads " + std::to_string(options.threads) + " is more than " +
                         std::to_string(kMaxLoaderThreads),
                     "a few decoding threads per rank keep up with training (the default is 2)");
  }
  try {
    for (int i = 0; i < options.threads; ++i) workers_.emplace_back(&BatchLoader::work, this);
  } catch (const std::system_error& e) {
    // The workers already started must be joined: destroying a joinable std::thread ends the process.
    stop_workers();
    throw UsageError("cannot start " + std::to_string(options.threads) + " loader threads: " + e.what(),
                     "lower --loader-threads");
  }
}

BatchLoader::~BatchLoader() { stop_workers(); }

void BatchLoader::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (auto& worker : workers_) worker.join();
  workers_.clear();
}

void BatchLoader::work() {
  // Pinned memory is allocated in the current device's context, which in a new thread is GPU 0's: the rank's own
  // device keeps the other ranks' GPUs free of this process.
  c10::OptionalDeviceGuard device;
  if (options_.device.is_cuda()) device.reset_device(options_.device);
  while (true) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return stopping_ || next_job_ - next_delivered_ < options_.prefetch_batches; });
      if (stopping_) return;
      // The sampler is not thread-safe and defines the order: jobs are cut from it under the lock.
      job.number = next_job_++;
      for (int64_t i = 0; i < options_.batch_size; ++i) {
        job.items.push_back(sampler_.next(1).front());
        job.epochs.push_back(sampler_.state().epoch);
      }
      job.next_state = sampler_.state();
    }
    try {
      Batch batch = make(job);
      std::lock_guard<std::mutex> lock(mutex_);
      ready_.emplace(job.number, std::move(batch));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
    changed_.notify_all();
  }
}

std::optional<torch::Tensor> BatchLoader::load_item(int64_t item, int64_t epoch) {
  std::optional<torch::Tensor> image = cache_.get(item);
  if (!image || !options_.augment) return image;
  dist::SplitMix64 rng(dist::stream_seed(dist::stream_seed(options_.seed, uint64_t(epoch)), uint64_t(item)));
  return augment(*image, draw_augmentation(rng, options_.ranges));  // a new tensor: the cached one stays as it is
}

torch::Tensor BatchLoader::to_float(const torch::Tensor& u8) const {
  if (!u8.is_cuda()) return u8.to(torch::kFloat).div(255);  // to_float_chw's operations
  // CUDA divides by a scalar as a multiplication by its reciprocal, which differs from the quotient in the last bit
  // for 126 of the 256 levels; batches must not depend on the device (resumed runs are compared bit for bit), so
  // the GPU looks the CPU's quotients up.
  return float_of_u8_.index({u8.to(torch::kLong)});
}

Batch BatchLoader::make(const Job& job) {
  std::vector<torch::Tensor> images;
  Batch batch;
  for (size_t i = 0; i < job.items.size(); ++i) {
    if (auto image = load_item(job.items[i], job.epochs[i])) {
      images.push_back(*image);
      batch.items.push_back(job.items[i]);
    }
  }
  batch.next_state = job.next_state;
  if (images.empty()) return batch;
  const int64_t size = options_.image_size;
  torch::Tensor u8 = torch::empty({int64_t(images.size()), 3, size, size},
                                  torch::TensorOptions(torch::kUInt8).pinned_memory(options_.device.is_cuda()));
  for (size_t i = 0; i < images.size(); ++i) u8[int64_t(i)].copy_(images[i].permute({2, 0, 1}));
  batch.images = options_.device.is_cuda() ? u8 : to_float(u8);  // on the CPU, the worker converts too
  return batch;
}

Batch BatchLoader::next() {
  while (true) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return error_ || ready_.count(next_delivered_) > 0; });
    if (error_) std::rethrow_exception(error_);
    Batch batch = std::move(ready_.at(next_delivered_));
    ready_.erase(next_delivered_++);
    lock.unlock();
    changed_.notify_all();
    // A batch whose every file was unreadable (already logged and counted by the folder) is skipped.
    if (!batch.images.defined()) continue;
    if (options_.device.is_cuda()) batch.images = to_float(batch.images.to(options_.device, /*non_blocking=*/true));
    return batch;
  }
}

}  // namespace rave::io
