#include "io/batch_loader.h"

#include <torch/torch.h>

#include <string>
#include <system_error>

#include "dist/error.h"
#include "dist/random.h"
#include "io/image.h"
#include "io/resize.h"

namespace rave::io {

BatchLoader::BatchLoader(ImageFolder& folder, dist::ShardSampler sampler, const BatchLoaderOptions& options)
    : folder_(folder), sampler_(std::move(sampler)), options_(options) {
  if (options.batch_size <= 0 || options.image_size <= 0 || options.threads <= 0 || options.prefetch_batches <= 0) {
    throw UsageError("batch loader: batch size, image size, threads and prefetch must be positive");
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
  const std::optional<torch::Tensor> decoded = folder_.read_u8(static_cast<size_t>(item));
  if (!decoded) return std::nullopt;
  torch::Tensor image = resize_pil(*decoded, options_.image_size, options_.image_size, PilFilter::lanczos);
  if (options_.augment) {
    dist::SplitMix64 rng(dist::stream_seed(dist::stream_seed(options_.seed, uint64_t(epoch)), uint64_t(item)));
    image = augment(image, draw_augmentation(rng, options_.ranges));
  }
  return to_float_chw(image);
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
  batch.images = images.empty() ? torch::Tensor() : torch::stack(images);
  batch.next_state = job.next_state;
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
    if (batch.images.defined()) return batch;
  }
}

}  // namespace rave::io
