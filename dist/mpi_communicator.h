// The MPI backend of Communicator: in-place MPI_Allreduce / MPI_Bcast on host memory. CUDA tensors (when the
// NCCL backend is not used) are staged through pinned host memory.
#pragma once

#include <memory>
#include <string>

#include "dist/communicator.h"
#include "dist/watchdog.h"

namespace rave::dist {

class MpiCommunicator : public Communicator {
 public:
  // `collective_timeout_seconds` > 0 watches every collective (Watchdog, aborting the job on a timeout).
  explicit MpiCommunicator(const Context& context, double collective_timeout_seconds = 0);

  const char* backend() const override { return "mpi"; }
  int rank() const override { return context_.rank(); }
  int world_size() const override { return context_.world_size(); }

  void all_reduce_sum(const torch::Tensor& tensor) override;
  void broadcast(const torch::Tensor& tensor, int root) override;
  void barrier() override;
  [[noreturn]] void abort(const std::string& message) override;

 private:
  // Runs `call` for the pieces of `tensor` that fit MPI's int element counts, under the watchdog.
  template <typename Call>
  void collective(const torch::Tensor& tensor, const std::string& name, Call call);

  const Context& context_;
  std::string where_;
  std::unique_ptr<Watchdog> watchdog_;  // null without a timeout
};

}  // namespace rave::dist
