// rave bench sgemm: a float32 matrix product through LibTorch, i.e. through whichever BLAS the system's
// libblas.so.3 resolves to (bench/blas.sh runs it against OpenBLAS and the reference BLAS side by side); the
// step benchmarks express their speed as a share of this rate (bench/compare.sh).
#include <torch/torch.h>

#include "bench/report.h"
#include "bench/tasks.h"
#include "bench/timing.h"

namespace rave::bench {
namespace {

using io::po::value;

void declare(io::OptionSet& options) {
  options.flags()
      ("n", value<int64_t>()->default_value(2048), "matrix side")
      ("repeats", value<int64_t>()->default_value(5), "timed products after one warm-up (the best is reported)");
}

int run(const launch::Invocation& invocation) {
  const int64_t n = invocation.options["n"].as<int64_t>(), repeats = invocation.options["repeats"].as<int64_t>();
  if (n < 1 || repeats < 1) throw UsageError("rave bench sgemm: --n and --repeats must be positive");
  const torch::Device device = invocation.context->device();
  torch::manual_seed(0);
  const torch::Tensor a = torch::randn({n, n}).to(device), b = torch::randn({n, n}).to(device);
  torch::mm(a, b);  // warm-up: BLAS thread pool start-up is not what we measure
  synchronize(device);
  double best = 1e30;
  for (int64_t i = 0; i < repeats; ++i) {
    const auto start = Clock::now();
    torch::mm(a, b);
    synchronize(device);
    best = std::min(best, seconds_since(start));
  }
  nlohmann::ordered_json j = {{"bench", "sgemm"}, {"n", n}, {"repeats", repeats}, {"best_seconds", rounded(best, 1e6)},
                              {"gflops", rounded(2.0 * double(n) * double(n) * double(n) / best / 1e9, 100)}};
  return report(invocation, j);
}

}  // namespace

launch::Command sgemm_task() {
  return {"sgemm", "a float32 matrix product: the machine's reference rate (JSON)", true, declare, run};
}

}  // namespace rave::bench
