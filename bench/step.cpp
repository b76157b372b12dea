// rave bench step: the RAVE training step of `rave train` (launch::training_step: enhancer -> E -> the RAVE
// guidance loss on the ViT embedding of E and the identity loss on the ResNet's five taps -> 6 G + 0.9 L_id ->
// backward -> gradient averaging -> Adam) on random images with random-weight frozen encoders, on --device.
// Seconds per step (wall clock, and the process's CPU time) are the medians of --iters steps after --warmup
// untimed ones; each step ends synchronised with the device (it reads its loss back), so CUDA needs no extra
// synchronisation around it. --save-weights writes the step's models and images for bench/rave_reference.py
// --weights, which must reproduce the first loss (bench/compare.sh checks it).
#include <torch/torch.h>

#include "bench/report.h"
#include "bench/step_models.h"
#include "bench/tasks.h"
#include "bench/timing.h"
#include "core/cpu_block_cache.h"
#include "core/process_memory.h"
#include "dist/communicator.h"

namespace rave::bench {
namespace {

using io::po::value;

void declare(io::OptionSet& options) {
  options.flags()
      ("precision", value<std::string>()->default_value("fp32"), "fp32, or bf16 (autocast forward passes)")
      ("batch", value<int64_t>()->default_value(2), "images per step")
      ("size", value<int64_t>()->default_value(256), "image side in pixels")
      ("warmup", value<int64_t>()->default_value(1), "untimed steps first (allocations, kernel selection)")
      ("iters", value<int64_t>()->default_value(3), "timed steps (medians are reported)")
      ("encoders", value<std::string>()->default_value("full"), "full (CLIP ViT-B/32 and RN101 sizes) or tiny")
      ("seed", value<uint64_t>()->default_value(kStepSeed), "of the enhancer, images and vector (the encoders': 0)")
      ("save-weights", value<std::string>()->default_value(""),
       "HDF5 file for the step's models and images, read by bench/rave_reference.py --weights");
}

int run(const launch::Invocation& invocation) {
  const auto& o = invocation.options;
  const dist::Context& context = *invocation.context;
  const int64_t batch = o["batch"].as<int64_t>(), size = o["size"].as<int64_t>();
  const int64_t warmup = o["warmup"].as<int64_t>(), iters = o["iters"].as<int64_t>();
  if (batch < 1 || size < 32 || warmup < 0 || iters < 1) {
    throw UsageError("rave bench step: --batch and --iters must be at least 1, --size at least 32, --warmup >= 0");
  }
  const models::Precision precision = models::parse_precision(o["precision"].as<std::string>());
  core::install_cpu_block_cache();  // as `rave train` does
  const auto communicator = dist::make_communicator(context, "auto");
  StepModels m = make_step_models(o["encoders"].as<std::string>(), batch, size, context.device(), *communicator,
                                  o["seed"].as<uint64_t>());
  if (!o["save-weights"].as<std::string>().empty()) save_step_models(o["save-weights"].as<std::string>(), m);
  const launch::TrainingParts parts = m.parts(*communicator, precision);

  std::vector<double> losses, times, cpu_times;
  launch::StepNumbers first;
  for (int64_t i = 0; i < warmup + iters; ++i) {
    if (i == warmup) {
      core::reset_peak_resident();
      if (context.device().is_cuda()) core::reset_device_peak(context.device().index());
    }
    const auto start = Clock::now();
    const double cpu_start = cpu_seconds();
    const launch::StepNumbers numbers = launch::training_step(parts, m.x, false);
    if (i == 0) first = numbers;
    losses.push_back(numbers.loss);
    if (i < warmup) continue;
    times.push_back(seconds_since(start));
    cpu_times.push_back(cpu_seconds() - cpu_start);
  }
  nlohmann::ordered_json j;
  j["bench"] = "rave_step";
  j["impl"] = "rave";
  j["form"] = "batched";
  j["step"] = "launch::training_step";
  j["encoders"] = m.encoders;
  j["precision"] = o["precision"].as<std::string>();
  j["batch"] = batch;
  j["size"] = size;
  j["warmup"] = warmup;
  j["iters"] = iters;
  // rave's own allocator for large CPU blocks (core/cpu_block_cache.h), as the command it measures uses it.
  j["allocator"] = "glibc malloc + rave's CPU block cache";
  j["seed"] = o["seed"].as<uint64_t>();
  j["first_loss"] = first.loss;
  j["first_guidance_loss"] = first.guidance;
  j["first_identity_loss"] = first.identity;
  j["last_loss"] = losses.back();
  j["seconds_per_step"] = rounded(median(times), 1e4);
  j["cpu_seconds_per_step"] = rounded(median(cpu_times), 1e4);
  j["images_per_s"] = rounded(double(batch) / median(times), 1e3);
  j["peak_resident_mib"] = rounded(core::peak_resident_mib(), 1);
  if (context.device().is_cuda()) j["peak_device_mib"] = rounded(core::device_peak_mib(context.device().index()), 1);
  return report(invocation, j);
}

}  // namespace

launch::Command step_task() {
  return {"step", "one RAVE training step of rave train, random weights (JSON)", true, declare, run};
}

}  // namespace rave::bench
