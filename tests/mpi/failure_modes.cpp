// A training-like loop of all-reduces in which one rank fails at a chosen step, for the failure tests:
//   mpi_failure_modes throw|kill|stall RANK STEP [COLLECTIVE_TIMEOUT_SECONDS]
// throw: the rank throws (run_guarded ends the job); kill: the rank dies of SIGKILL (mpirun ends the job);
// stall: the rank sleeps while the others wait in a collective (their watchdog ends the job).
#include <torch/torch.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <string>
#include <thread>

#include "core/error.h"
#include "core/log.h"
#include "dist/communicator.h"
#include "dist/context.h"
#include "dist/guard.h"

int main(int argc, char** argv) {
  rave::dist::Context context(&argc, &argv, {"cpu", 1});
  rave::core::setup_logging({context.rank(), context.world_size(), false, ""});
  return rave::dist::run_guarded(&context, [&] {
    if (argc < 4) throw rave::UsageError("usage: mpi_failure_modes throw|kill|stall RANK STEP [TIMEOUT]");
    const std::string mode = argv[1];
    const int victim = std::atoi(argv[2]);
    const int fail_step = std::atoi(argv[3]);
    const double timeout = argc > 4 ? std::atof(argv[4]) : 0;
    auto comm = rave::dist::make_communicator(context, "mpi", timeout);
    const auto gradient = torch::ones({1024});
    for (int step = 0; step < 20; ++step) {
      if (context.rank() == victim && step == fail_step) {
        if (mode == "throw") {
          throw rave::Error("rank " + std::to_string(victim) + " failed on purpose at step " + std::to_string(step));
        }
        if (mode == "kill") std::raise(SIGKILL);
        if (mode == "stall") std::this_thread::sleep_for(std::chrono::seconds(120));
      }
      comm->all_reduce_sum(gradient);
    }
    return 0;
  });
}
