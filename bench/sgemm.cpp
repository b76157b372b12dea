// Times a 2048x2048 float32 matrix product through LibTorch, i.e. through whichever BLAS the system's
// libblas.so.3 resolves to. bench/blas.sh runs it against OpenBLAS and the reference BLAS side by side.
#include <torch/torch.h>

#include <chrono>
#include <cstdio>

int main(int argc, char** argv) {
  const int64_t n = argc > 1 ? std::atoll(argv[1]) : 2048;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 5;
  torch::manual_seed(0);
  const auto a = torch::randn({n, n});
  const auto b = torch::randn({n, n});
  torch::mm(a, b);  // warm-up: BLAS thread pool start-up is not what we measure
  double best = 1e30;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const auto c = torch::mm(a, b);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  const double gflops = 2.0 * double(n) * double(n) * double(n) / best / 1e9;
  std::printf("{\"bench\": \"sgemm\", \"n\": %lld, \"repeats\": %d, \"best_seconds\": %.6f, \"gflops\": %.2f}\n",
              static_cast<long long>(n), repeats, best, gflops);
  return 0;
}
