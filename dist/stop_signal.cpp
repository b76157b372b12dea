#include "dist/stop_signal.h"

#include <torch/torch.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <mutex>

#include "core/error.h"

namespace rave::dist {
namespace {

// Written by the handler, which may run on any thread of the process (loader, OpenMP or MPI progress
// threads alike): lock-free atomics are the only shared state a handler may touch.
std::atomic<bool> usr1_received{false};
std::atomic<bool> term_received{false};
std::atomic<bool> int_received{false};
static_assert(std::atomic<bool>::is_always_lock_free, "signal handlers need lock-free atomics");

extern "C" void record_stop_signal(int signal) {
  auto& received = signal == SIGUSR1 ? usr1_received : signal == SIGTERM ? term_received : int_received;
  received.store(true, std::memory_order_relaxed);
}

// `flags`: SA_RESTART always, so that blocking reads in loader threads resume instead of failing with EINTR.
void install(int signal, int flags = 0) {
  struct sigaction action {};
  action.sa_handler = record_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART | flags;
  if (sigaction(signal, &action, nullptr) != 0) {
    throw Error(std::string("cannot install the handler of ") + strsignal(signal) + ": " + std::strerror(errno));
  }
}

}  // namespace

std::string StopDecision::describe(int world_size) const {
  std::string text;
  const auto add = [&](const char* name, int64_t ranks) {
    if (ranks == 0) return;
    if (!text.empty()) text += " and ";
    text += std::string(name) + " on " + std::to_string(ranks) + " of " + std::to_string(world_size) + " rank(s)";
  };
  add("SIGUSR1", ranks_with_usr1);
  add("SIGTERM", ranks_with_term);
  add("SIGINT", ranks_with_int);
  return text;
}

StopSignal::StopSignal() {
  static std::once_flag installed;
  std::call_once(installed, [] {
    install(SIGUSR1);
    install(SIGTERM);
    // Ctrl-C asks for a checkpoint once; the handler then resets to the default, so that a second Ctrl-C ends
    // the process at once (the way out of a step that is taking too long).
    install(SIGINT, SA_RESETHAND);
  });
  usr1_received = false;
  term_received = false;
  int_received = false;
}

StopDecision StopSignal::agree(Communicator& communicator, const torch::Device& device) const {
  // On the communicator's device: the NCCL backend only reduces CUDA tensors.
  torch::Tensor flags = torch::tensor(
      {int64_t(usr1_received.load()), int64_t(term_received.load()), int64_t(int_received.load())}, torch::kInt64);
  flags = flags.to(device);
  communicator.all_reduce_sum(flags);
  flags = flags.cpu();
  return {flags[0].item<int64_t>(), flags[1].item<int64_t>(), flags[2].item<int64_t>()};
}

}  // namespace rave::dist
