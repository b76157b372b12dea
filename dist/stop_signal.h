// Stopping a run on request without losing work (the signal contract of slurm/README.md). SIGUSR1 (Slurm's
// warning before a time limit or preemption, `#SBATCH --signal=B:USR1@120`, forwarded by the batch script)
// SIGTERM (time limit, scancel, preemption) and SIGINT (Ctrl-C; a second one ends the process at once) ask a run
// to stop. A signal handler can do almost nothing
// safely, so it only records the signal; the training loop asks at each step boundary whether any rank got
// one (one small all-reduce), and then every rank stops at the same step, after a complete checkpoint, and
// exits with kExitStopped.
#pragma once

#include <cstdint>
#include <string>

#include "dist/communicator.h"

namespace rave::dist {

// Exit code of a run that stopped on request after writing a complete checkpoint: EX_TEMPFAIL of
// <sysexits.h> ("temporary failure, try again later"). The Slurm templates requeue the job on it.
constexpr int kExitStopped = 75;

// What the ranks agreed at a step boundary: how many of them have received each signal since the run started.
struct StopDecision {
  int64_t ranks_with_usr1 = 0;
  int64_t ranks_with_term = 0;
  int64_t ranks_with_int = 0;
  bool stop() const { return ranks_with_usr1 + ranks_with_term + ranks_with_int > 0; }
  // "SIGUSR1 on 1 of 2 ranks" (and/or SIGTERM, SIGINT), for the log.
  std::string describe(int world_size) const;
};

// Records SIGUSR1, SIGTERM and SIGINT from its construction on, forgetting what was recorded before. The handlers stay
// for the rest of the process: a signal that arrives while a finished run shuts down must not kill a rank whose
// work is complete (its exit code would then report a failure).
class StopSignal {
 public:
  StopSignal();

  // Collective (every rank calls it at the same point): whether any rank received a stop signal. A sum of
  // 0/1 flags is non-zero exactly when their maximum is, and it also tells how many ranks got each signal.
  StopDecision agree(Communicator& communicator, const torch::Device& device) const;
};

}  // namespace rave::dist
