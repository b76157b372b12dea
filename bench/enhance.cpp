// rave bench enhance: forward-only throughput of the enhancement network at full resolution, the part of
// `rave enhance` that is not decoding or encoding files: one random image of --height x --width through the
// published-inference configuration (reflect padding), in inference mode, --warmup untimed and --iters timed runs
// (median), whole (the default) or in tiles of --tile pixels (Enhancer::forward_tiled, as `rave enhance` runs).
// Peak RSS is this process's. (channels_last was tried: no less memory and slower on one CPU thread, so NCHW it
// is.) bench/enhance.sh runs it beside the PyTorch eager baseline.
#include <torch/torch.h>

#include "bench/report.h"
#include "bench/tasks.h"
#include "bench/timing.h"
#include "core/process_memory.h"
#include "models/enhancer.h"

namespace rave::bench {
namespace {

using io::po::value;

void declare(io::OptionSet& options) {
  options.flags()
      ("height", value<int64_t>()->default_value(1536), "image height in pixels")
      ("width", value<int64_t>()->default_value(2048), "image width in pixels")
      ("warmup", value<int64_t>()->default_value(1), "untimed runs first (allocator, oneDNN kernels)")
      ("iters", value<int64_t>()->default_value(3), "timed runs (the median is reported)")
      ("tile", value<int64_t>()->default_value(0), "tile side in pixels (0: the whole image at once)");
}

int run(const launch::Invocation& invocation) {
  const auto& o = invocation.options;
  const int64_t height = o["height"].as<int64_t>(), width = o["width"].as<int64_t>(), tile = o["tile"].as<int64_t>();
  const int64_t warmup = o["warmup"].as<int64_t>(), iters = o["iters"].as<int64_t>();
  if (height < 1 || width < 1 || tile < 0 || warmup < 0 || iters < 1) {
    throw UsageError("rave bench enhance: --height, --width and --iters must be positive, --tile and --warmup >= 0");
  }
  const torch::Device device = invocation.context->device();
  torch::manual_seed(0);
  models::Enhancer enhancer(models::EnhancerOptions().cond_padding(torch::kReflect));
  enhancer->eval();
  enhancer->to(device);
  const torch::Tensor x = torch::rand({1, 3, height, width}).to(device);
  std::vector<double> seconds;
  torch::InferenceMode inference;
  for (int64_t i = 0; i < warmup + iters; ++i) {
    const auto start = Clock::now();
    enhancer->forward_tiled(x, tile);
    synchronize(device);
    if (i >= warmup) seconds.push_back(seconds_since(start));
  }
  const double megapixels = double(height * width) / 1e6;
  nlohmann::ordered_json j = {{"bench", "enhance_forward"}, {"impl", "rave"},       {"height", height},
                              {"width", width},             {"tile", tile},         {"warmup", warmup},
                              {"iters", iters},             {"seconds_median", rounded(median(seconds), 1e4)},
                              {"megapixels_per_s", rounded(megapixels / median(seconds), 1e3)},
                              {"peak_rss_mib", rounded(core::peak_resident_mib(), 1)}};
  return report(invocation, j);
}

}  // namespace

launch::Command enhance_task() {
  return {"enhance", "the enhancer's forward pass at full resolution (JSON)", true, declare, run};
}

}  // namespace rave::bench
