#include "guidance/ordered_workers.h"

#include <dlfcn.h>
#include <torch/torch.h>

#include <algorithm>

namespace rave::guidance {
namespace {

// OpenBLAS's pool through its symbols, as dist::Context sets it (no link-time dependency); -1 without OpenBLAS.
int blas_threads() {
  using GetThreads = int (*)();
  auto fn = reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  return fn ? fn() : -1;
}

void set_blas_threads(int n) {
  using SetThreads = void (*)(int);
  if (auto fn = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) fn(n);
}

}  // namespace

int64_t balanced_batch_count(int64_t items, int workers, int64_t max_batch) {
  if (items <= 0) return 0;
  const int64_t shares = std::max(workers, 1), per_round = shares * std::max<int64_t>(max_batch, 1);
  return std::min(items, (items + per_round - 1) / per_round * shares);
}

ScopedComputeThreads::ScopedComputeThreads(int threads)
    : torch_threads_(torch::get_num_threads()), blas_threads_(blas_threads()) {
  torch::set_num_threads(threads);
  if (blas_threads_ > 0) set_blas_threads(threads);
}

ScopedComputeThreads::~ScopedComputeThreads() {
  torch::set_num_threads(torch_threads_);
  if (blas_threads_ > 0) set_blas_threads(blas_threads_);
}

}  // namespace rave::guidance
