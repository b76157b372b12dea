// rave bench allreduce: the communication of the data-parallel runtime, run under mpirun (bench/allreduce.sh):
// 1. all-reduce (sum, float32, in place) for 1 KB ... --max-bytes through dist::Communicator, reported like
//    nccl-tests: algbw = bytes / time, busbw = algbw * 2(n-1)/n (what each rank's link carries), time = the
//    slowest rank's mean over the iterations, best of 3 trials (shared machines are noisy);
// 2. the share of a training step of the enhancer (278,790 parameters) spent in GradientReducer::reduce(),
//    medians over the steps.
#include <torch/torch.h>

#include <algorithm>

#include "bench/report.h"
#include "bench/tasks.h"
#include "bench/timing.h"
#include "dist/communicator.h"
#include "dist/gradient_reducer.h"
#include "dist/per_rank.h"
#include "models/enhancer.h"

namespace rave::bench {
namespace {

using dist::Context;
using io::po::value;

void declare(io::OptionSet& options) {
  options.flags()
      ("backend", value<std::string>()->default_value("auto"), "auto (NCCL on GPUs, else MPI), mpi or nccl")
      ("max-bytes", value<int64_t>()->default_value(int64_t{64} << 20), "largest all-reduce (from 1 KB, doubling)")
      ("image-size", value<int64_t>()->default_value(128), "training step: image side in pixels")
      ("batch", value<int64_t>()->default_value(1), "training step: images per rank")
      ("steps", value<int64_t>()->default_value(5), "training step: timed steps after one warm-up (median)");
}

// Slowest rank's value: a collective is as slow as its last participant.
double max_over_ranks(dist::Communicator& comm, double seconds) {
  return dist::gather_rows(comm, torch::tensor({seconds}, torch::kFloat64)).max().item<double>();
}

// Wall time of `work` on this rank (GPU work included), started together on all ranks.
template <typename Work>
double timed(const Context& context, dist::Communicator& comm, Work work) {
  comm.barrier();
  const auto start = Clock::now();
  work();
  synchronize(context.device());
  return seconds_since(start);
}

nlohmann::json bandwidth(const Context& context, dist::Communicator& comm, int64_t max_bytes) {
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
      seconds = std::min(seconds, max_over_ranks(comm, total) / iterations);
    }
    const double algbw = double(bytes) / seconds / 1e9;
    rows.push_back({{"bytes", bytes},
                    {"iterations", iterations},
                    {"time_us", rounded(seconds * 1e6, 1e3)},
                    {"algbw_gbs", rounded(algbw, 1e3)},
                    {"busbw_gbs", rounded(algbw * 2 * (n - 1) / n)}});
  }
  return rows;
}

nlohmann::json training_step(const Context& context, dist::Communicator& comm, int64_t batch, int64_t image_size,
                             int64_t steps) {
  torch::manual_seed(0);
  models::Enhancer enhancer;
  enhancer->to(context.device());
  int64_t parameters = 0;
  for (const auto& p : enhancer->parameters()) parameters += p.numel();
  dist::GradientReducer reducer(comm, enhancer->named_parameters());
  reducer.broadcast_parameters();
  torch::optim::Adam adam(enhancer->parameters(), torch::optim::AdamOptions(1e-4));
  const auto options = torch::TensorOptions().device(context.device());
  const auto x = torch::rand({batch, 3, image_size, image_size}, options);

  std::vector<double> step_seconds, syncs;
  for (int64_t step = -1; step < steps; ++step) {  // step -1 warms up (allocations, thread pools)
    double compute = timed(context, comm, [&] {
      adam.zero_grad();
      const auto loss = (enhancer->enhance(x) - 0.5).pow(2).mean();
      loss.backward();
    });
    // reduce() starts after a barrier, so its time is communication, not waiting for a slower rank's backward.
    const double sync = timed(context, comm, [&] { reducer.reduce(); });
    compute += timed(context, comm, [&] { adam.step(); });
    if (step < 0) continue;
    step_seconds.push_back(max_over_ranks(comm, compute + sync));
    syncs.push_back(max_over_ranks(comm, sync));
  }
  reducer.check_parameters_in_sync();
  return {{"model", "enhancer"},
          {"parameters", parameters},
          {"gradient_bytes", parameters * 4},
          {"buckets", reducer.bucket_layout().size()},
          {"image_size", image_size},
          {"batch_per_rank", batch},
          {"steps", steps},
          {"step_seconds", rounded(median(step_seconds))},
          {"sync_ms", rounded(median(syncs) * 1e3)},
          {"sync_fraction", rounded(median(syncs) / median(step_seconds))}};
}

int run(const launch::Invocation& invocation) {
  const auto& o = invocation.options;
  const Context& context = *invocation.context;
  const int64_t max_bytes = o["max-bytes"].as<int64_t>(), steps = o["steps"].as<int64_t>();
  if (max_bytes < 1024 || steps < 1 || o["batch"].as<int64_t>() < 1 || o["image-size"].as<int64_t>() < 32) {
    throw UsageError("rave bench allreduce: --max-bytes >= 1024, --steps and --batch >= 1, --image-size >= 32");
  }
  auto comm = dist::make_communicator(context, o["backend"].as<std::string>());
  nlohmann::ordered_json result = {{"bench", "allreduce"}, {"backend", comm->backend()}, {"dtype", "float32"}};
  result["allreduce"] = bandwidth(context, *comm, max_bytes);
  result["training"] = training_step(context, *comm, o["batch"].as<int64_t>(), o["image-size"].as<int64_t>(), steps);
  return report(invocation, result);
}

}  // namespace

launch::Command allreduce_task() {
  return {"allreduce", "all-reduce bandwidth and the gradient sync share of a step, under mpirun (JSON)", true,
          declare, run};
}

}  // namespace rave::bench
