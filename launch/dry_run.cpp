#include "launch/dry_run.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>

#include "core/cpu_block_cache.h"
#include "core/error.h"
#include "core/process_memory.h"
#include "dist/communicator.h"
#include "dist/gradient_reducer.h"
#include "dist/per_rank.h"
#include "guidance/encoders.h"
#include "guidance/learned_pair.h"
#include "guidance/rave_guidance.h"
#include "guidance/residual_file.h"
#include "io/checkpoint.h"
#include "io/dataset.h"
#include "launch/optimizer_state.h"
#include "launch/training_step.h"
#include "models/enhancer.h"

namespace rave::launch {
namespace {

namespace fs = std::filesystem;

// --run-dir is created by the run: the nearest folder that exists must be a writable folder.
void check_run_dir(const fs::path& run_dir) {
  fs::path existing = fs::absolute(run_dir);
  while (!fs::exists(existing) && existing.has_parent_path() && existing != existing.parent_path()) {
    existing = existing.parent_path();
  }
  if (!fs::is_directory(existing) || access(existing.c_str(), W_OK) != 0) {
    throw UsageError("--run-dir " + run_dir.string() + " cannot be created: " + existing.string() +
                         (fs::is_directory(existing) ? " is not writable" : " is not a folder"),
                     "choose a --run-dir in a folder you can write to");
  }
}

// The guidance a step of this run trains against. RAVE: the --residual file's vector, or a random unit vector
// standing in for the one the run will compute (the same dimension, the same cost). CLIP-LIT: the learned pair
// as its initialisation leaves it.
std::unique_ptr<guidance::Guidance> make_guidance(const TrainerOptions& options, guidance::GuidanceEncoder& encoder) {
  if (is_clip_lit_method(options.method)) {
    auto pair = guidance::make_learned_pair(options.method, encoder, options.clip_lit.vocab);
    pair->freeze();
    return pair;
  }
  guidance::ResidualVector vector;
  if (!options.residual.empty()) {
    vector = guidance::read_residual_file_for(options.residual, encoder).vector;
  } else {
    vector.residual = torch::nn::functional::normalize(torch::randn({encoder.dim()}),
                                                       torch::nn::functional::NormalizeFuncOptions().dim(0));
    vector.tau = 0.5;
  }
  return std::make_unique<guidance::RaveGuidance>(vector);
}

struct StepCost {
  double seconds = 0;
  double resident_mib = 0;  // the process's peak during the step
  double device_mib = 0;    // the CUDA allocator's peak during the step
  double cached_mib = 0;    // the block cache's peak of live and kept blocks since it was last emptied
};

// The peaks and time of one training step of the run (launch::training_step) on `batch` random images.
StepCost measure_step(const TrainingParts& parts, int64_t image_size, int64_t batch, bool warm_up,
                      const torch::Device& device) {
  const torch::Tensor x = torch::rand({batch, 3, image_size, image_size}).to(device);
  core::reset_peak_resident();
  if (device.is_cuda()) core::reset_device_peak(device.index());
  const auto start = std::chrono::steady_clock::now();
  const double loss = training_step(parts, x, warm_up).loss;  // ends synchronised with the device
  if (!std::isfinite(loss)) throw Error("the loss of a random batch is " + std::to_string(loss));
  return {std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
          core::peak_resident_mib(), device.is_cuda() ? core::device_peak_mib(device.index()) : 0.0,
          double(core::cpu_block_cache_stats().peak_held_bytes) / (1024.0 * 1024.0)};
}

// The line through (small, a) and (large, b) at `batch`; the growth is never taken as negative.
double extrapolate(int64_t small, double a, int64_t large, double b, int64_t batch) {
  return large == small ? a : a + double(batch - small) * std::max(0.0, b - a) / double(large - small);
}

}  // namespace

int dry_run(const dist::Context& context, const TrainerOptions& options) {
  // The checks without files first, then the folders and files in the order the run opens them.
  check_options(options);
  check_run_dir(options.run_dir);
  const std::string resume_from = resume_path(options);
  const bool computes_residual = options.method == "rave" && options.residual.empty() && resume_from.empty();
  if (computes_residual && options.welllit.empty()) {
    throw UsageError("RAVE needs --welllit (or --residual FILE) to compute its residual vector");
  }
  spdlog::info("--backlit {}: {} images", options.backlit, io::ImageFolder(options.backlit, options.exif).size());
  if (!options.welllit.empty()) {
    spdlog::info("--welllit {}: {} images", options.welllit, io::ImageFolder(options.welllit, options.exif).size());
  }
  if (!resume_from.empty()) {
    const io::Checkpoint checkpoint = io::Checkpoint::read(resume_from);
    check_resumable(checkpoint, options, context.world_size());
    spdlog::info("--resume: {} (step {}, round {}, {}), checksums ok", resume_from, checkpoint.step, checkpoint.round,
                 checkpoint.stage);
  }

  const std::unique_ptr<guidance::GuidanceEncoder> encoder = guidance::make_guidance_encoder(options.clip);
  const std::unique_ptr<guidance::IdentityEncoder> identity = guidance::make_identity_encoder(options.clip_identity);
  const torch::Device device = context.device();
  encoder->to(device);
  identity->to(device);
  const std::unique_ptr<guidance::Guidance> guidance = make_guidance(options, *encoder);
  guidance->to(device);
  spdlog::info("encoders: guidance {} ({} dimensions), identity {}", encoder->name(), encoder->dim(), identity->name());

  torch::manual_seed(options.seed);
  models::Enhancer enhancer(models::EnhancerOptions().cond_padding(torch::kZeros));
  enhancer->to(device);
  torch::optim::Adam optimizer(enhancer->parameters(), reference_adam(options.learning_rate, options.weight_decay));
  const std::unique_ptr<dist::Communicator> communicator =
      dist::make_communicator(context, options.backend, options.collective_timeout);
  dist::GradientReducer reducer(*communicator, enhancer->named_parameters());
  const TrainingParts parts{enhancer, *encoder, *identity, *guidance, optimizer, reducer, *communicator,
                            options.precision};
  const auto step = [&](int64_t batch, bool warm_up = false) {
    return measure_step(parts, options.image_size, batch, warm_up, device);
  };
  // Measured at --batch-size up to 2, else at 2 and 3 and extrapolated: real runs grow linearly from batch 2 on
  // (a CPU run at 256x256 with full-size CLIP measured 2747, 3835, 4556 and 5407 MiB at batch 1 to 4).
  const int64_t small = std::min<int64_t>(options.batch_size, 2), large = options.batch_size > 2 ? 3 : small;
  spdlog::info("timing enhancer steps at {}x{} (three at batch {}{}) to estimate a step at batch {}",
               options.image_size, options.image_size, small,
               large > small ? ", three at batch " + std::to_string(large) : std::string(), options.batch_size);
  // Each size is measured as a run meets it: a warm-up step, whose blocks the block cache keeps, then two guided
  // steps, measured at the second, when the cache holds the most blocks of each size a step needed at once (the
  // first also pays for one-time set-up: kernels, thread pools). The cache is emptied before each size, as a run
  // holds no blocks of another batch's sizes. The smaller batch comes first, in a process that has not yet sized
  // anything, as a run's: its resident peak is a run's. What the second size adds is read from the cache's own
  // peak, which does not depend on what the process did before (the resident peak does: memory sized for the
  // first batch is reused by the second).
  const double set_up_peak = core::peak_resident_mib();  // loading the encoders can peak above a small step
  const auto measure = [&](int64_t batch) {
    core::drop_cpu_block_cache();
    step(batch, /*warm_up=*/true);
    step(batch);
    return step(batch);
  };
  const StepCost a = measure(small);
  const StepCost b = large > small ? measure(large) : a;
  const double outside_cache = a.resident_mib - a.cached_mib;  // weights' small tensors, libraries, heap

  // Every rank measured its own steps; the largest figures are what a rank needs.
  const int64_t batch = options.batch_size;
  const double step_peak = outside_cache + extrapolate(small, a.cached_mib, large, b.cached_mib, batch);
  const torch::Tensor estimate = torch::tensor({std::max(set_up_peak, step_peak),
                                                extrapolate(small, a.device_mib, large, b.device_mib, batch),
                                                extrapolate(small, a.seconds, large, b.seconds, batch)},
                                               torch::kFloat64);
  const torch::Tensor largest =
      std::get<0>(dist::gather_rows(*communicator, estimate).max(0));
  if (context.is_root()) {
    const std::string measured =
        fmt::format("set-up: {:.0f} MiB; batch {}: {:.0f} MiB resident, {:.0f} MiB in large blocks, {:.2f} s",
                    set_up_peak, small, a.resident_mib, a.cached_mib, a.seconds) +
        (large > small ? fmt::format("; batch {}: {:.0f} MiB in large blocks, {:.2f} s", large, b.cached_mib, b.seconds)
                       : std::string());
    spdlog::info("estimated peak memory per rank: {:.0f} MiB resident{} ({})", largest[0].item<double>(),
                 device.is_cuda() ? fmt::format(", {:.0f} MiB on the GPU", largest[1].item<double>()) : std::string(),
                 measured);
    spdlog::info("estimated step time: {:.2f} s at batch {} on {} rank(s)", largest[2].item<double>(), batch,
                 context.world_size());
    spdlog::info("dry run: the configuration is complete; nothing was written");
  }
  return 0;
}

}  // namespace rave::launch
