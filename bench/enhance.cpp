// Forward-only throughput of the enhancement network at full resolution, the part of `rave enhance` that is
// not decoding or encoding files: one random image of --height x --width through the published-inference
// configuration (reflect padding), in inference mode, one warm-up and --iters timed runs (median), whole (the
// default) or in tiles of --tile pixels (Enhancer::forward_tiled, as `rave enhance` runs). Peak RSS is this
// process's. (channels_last was tried: no less memory and slower on one CPU thread, so NCHW it is.)
// bench/enhance.sh runs it beside the PyTorch eager baseline.
// Prints one JSON object.
//   bench_enhance [--height 1536] [--width 2048] [--iters 3] [--threads 0] [--tile 0]
#include <nlohmann/json.hpp>
#include <sys/resource.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "dist/error.h"
#include "dist/openmp_wait_policy.h"
#include "models/enhancer.h"

namespace {

struct Arguments {
  int64_t height = 1536, width = 2048, iters = 3, threads = 0, tile = 0;
};

Arguments parse(int argc, char** argv) {
  Arguments a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--height") a.height = std::atoll(value.c_str());
    else if (flag == "--width") a.width = std::atoll(value.c_str());
    else if (flag == "--iters") a.iters = std::atoll(value.c_str());
    else if (flag == "--threads") a.threads = std::atoll(value.c_str());
    else if (flag == "--tile") a.tile = std::atoll(value.c_str());
    else throw rave::UsageError("bench_enhance: unknown flag " + flag, "see the top of bench/enhance.cpp");
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  rave::dist::prefer_passive_openmp_waits(argv);  // as the rave executable does
  try {
    const Arguments a = parse(argc, argv);
    if (a.threads > 0) torch::set_num_threads(int(a.threads));
    torch::manual_seed(0);
    rave::models::Enhancer enhancer(rave::models::EnhancerOptions().cond_padding(torch::kReflect));
    enhancer->eval();
    const torch::Tensor x = torch::rand({1, 3, a.height, a.width});
    std::vector<double> seconds;
    torch::InferenceMode inference;
    for (int64_t i = 0; i <= a.iters; ++i) {
      const auto start = std::chrono::steady_clock::now();
      const torch::Tensor light = enhancer->forward_tiled(x, a.tile);
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (i > 0) seconds.push_back(elapsed);  // the first run warms up the allocator and oneDNN's kernels
    }
    std::sort(seconds.begin(), seconds.end());
    const double median = seconds[seconds.size() / 2];
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const double megapixels = double(a.height * a.width) / 1e6;
    nlohmann::ordered_json out = {
        {"bench", "enhance_forward"}, {"impl", "rave"}, {"height", a.height}, {"width", a.width},
        {"tile", a.tile}, {"threads", torch::get_num_threads()}, {"iters", a.iters},
        {"seconds_median", median}, {"megapixels_per_s", megapixels / median},
        {"peak_rss_mib", double(usage.ru_maxrss) / 1024.0}};
    std::printf("%s\n", out.dump().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_enhance: %s\n", e.what());
    return 1;
  }
}
