// Communication benchmark of the data-parallel runtime, run under mpirun (bench/allreduce.sh):
// 1. all-reduce (sum, float32, in place) for 1 KB ... 64 MB through dist::Communicator, reported like
//    nccl-tests: algbw = bytes / time, busbw = algbw * 2(n-1)/n (what each rank's link carries), time = the
//    slowest rank's mean over the iterations, best of 3 trials (shared machines are noisy);
// 2. the share of a training step of the enhancer (278,790 parameters) spent in GradientReducer::reduce(),
//    medians over the steps.
// Prints one JSON object (rank 0).
//   bench_allreduce [--backend auto|mpi|nccl] [--max-bytes N] [--image-size S] [--batch B] [--steps N]
#include <mpi.h>
#include <nlohmann/json.hpp>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "dist/communicator.h"
#include "dist/context.h"
#include "dist/error.h"
#include "dist/gradient_reducer.h"
#include "dist/guard.h"
#include "dist/log.h"
#include "models/enhancer.h"

namespace {

using Clock = std::chrono::steady_clock;
using rave::dist::Context;

struct Arguments {
  std::string backend = "auto";
  int64_t max_bytes = int64_t{64} << 20;
  int64_t image_size = 128;
  int64_t batch = 1;
  int steps = 5;
};

Arguments parse(int argc, char** argv) {
  Arguments a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--backend") a.backend = value;
    else if (flag == "--max-bytes") a.max_bytes = std::atoll(value.c_str());
    else if (flag == "--image-size") a.image_size = std::atoll(value.c_str());
    else if (flag == "--batch") a.batch = std::atoll(value.c_str());
    else if (flag == "--steps") a.steps = std::atoi(value.c_str());
    else throw rave::UsageError("bench_allreduce: unknown flag " + flag);
  }
  return a;
}

// Three decimals are all a noisy measurement supports.
double rounded(double x) { return std::round(x * 1000) / 1000; }

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// Slowest rank's value: a collective is as slow as its last participant.
double max_over_ranks(const Context& context, double seconds) {
  double slowest = 0;
  RAVE_MPI_CHECK(MPI_Allreduce(&seconds, &slowest, 1, MPI_DOUBLE, MPI_MAX, context.comm()));
  return slowest;
}

// Wall time of `work` on this rank (GPU work included), started together on all ranks.
template <typename Work>
double timed(const Context& context, rave::dist::Communicator& comm, Work work) {
  comm.barrier();
  const auto start = Clock::now();
  work();
  if (context.device().is_cuda()) torch::cuda::synchronize();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

nlohmann::json bandwidth(const Context& context, rave::dist::Communicator& comm, int64_t max_bytes) {
  const double n = context.world_size();
  nlohmann::json rows = nlohmann::json::array();
  for (int64_t bytes = 1024; bytes <= max_bytes; bytes *= 2) {
    // Zeros: repeated sums of anything else grow to inf in a few hundred calls.
    const auto buffer = torch::zeros({bytes / 4}, torch::TensorOptions().device(context.device()));
    // About 256 MB of traffic per size, at least 10 and at most 1000 calls; 5 warm-up calls first.
    const int iterations = static_cast<int>(std::clamp<int64_t>((int64_t{256} << 20) / bytes, 10, 1000));
    for (int i = 0; i < 5; ++i) comm.all_reduce_sum(buffer);
    double seconds = 1e30;
    for (int trial = 0; trial < 3; ++trial) {
      const double total = timed(context, comm, [&] {
        for (int i = 0; i < iterations; ++i) comm.all_reduce_sum(buffer);
      });
      seconds = std::min(seconds, max_over_ranks(context, total) / iterations);
    }
    const double algbw = double(bytes) / seconds / 1e9;
    rows.push_back({{"bytes", bytes},
                    {"iterations", iterations},
                    {"time_us", rounded(seconds * 1e6)},
                    {"algbw_gbs", rounded(algbw)},
                    {"busbw_gbs", rounded(algbw * 2 * (n - 1) / n)}});
  }
  return rows;
}

nlohmann::json training_step(const Context& context, rave::dist::Communicator& comm, const Arguments& a) {
  torch::manual_seed(0);
  rave::models::Enhancer enhancer;
  enhancer->to(context.device());
  int64_t parameters = 0;
  for (const auto& p : enhancer->parameters()) parameters += p.numel();
  rave::dist::GradientReducer reducer(comm, enhancer->named_parameters());
  reducer.broadcast_parameters();
  torch::optim::Adam adam(enhancer->parameters(), torch::optim::AdamOptions(1e-4));
  const auto options = torch::TensorOptions().device(context.device());
  const auto x = torch::rand({a.batch, 3, a.image_size, a.image_size}, options);

  std::vector<double> steps, syncs;
  for (int step = -1; step < a.steps; ++step) {  // step -1 warms up (allocations, thread pools)
    double compute = timed(context, comm, [&] {
      adam.zero_grad();
      const auto loss = (enhancer->enhance(x) - 0.5).pow(2).mean();
      loss.backward();
    });
    // reduce() starts after a barrier, so its time is communication, not waiting for a slower rank's backward.
    const double sync = timed(context, comm, [&] { reducer.reduce(); });
    compute += timed(context, comm, [&] { adam.step(); });
    if (step < 0) continue;
    steps.push_back(max_over_ranks(context, compute + sync));
    syncs.push_back(max_over_ranks(context, sync));
  }
  reducer.check_parameters_in_sync();
  return {{"model", "enhancer"},
          {"parameters", parameters},
          {"gradient_bytes", parameters * 4},
          {"buckets", reducer.bucket_layout().size()},
          {"image_size", a.image_size},
          {"batch_per_rank", a.batch},
          {"steps", a.steps},
          {"step_seconds", rounded(median(steps))},
          {"sync_ms", rounded(median(syncs) * 1e3)},
          {"sync_fraction", rounded(median(syncs) / median(steps))}};
}

}  // namespace

int main(int argc, char** argv) {
  Context context(&argc, &argv);
  rave::dist::setup_logging({context.rank(), context.world_size(), false, ""});
  return rave::dist::run_guarded(&context, [&] {
    const Arguments a = parse(argc, argv);
    auto comm = rave::dist::make_communicator(context, a.backend);
    nlohmann::json result = {{"bench", "allreduce"},
                             {"backend", comm->backend()},
                             {"ranks", context.world_size()},
                             {"device", context.device().str()},
                             {"threads_per_rank", context.threads()},
                             {"dtype", "float32"}};
    result["allreduce"] = bandwidth(context, *comm, a.max_bytes);
    result["training"] = training_step(context, *comm, a);
    if (context.is_root()) std::printf("%s\n", result.dump().c_str());
    return 0;
  });
}
