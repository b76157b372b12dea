// Collective operations on tensors across the ranks of a job (ARCHITECTURE §3), the one interface the
// gradient reducer, the residual pass and the trainer talk to, and the factory behind --backend auto|mpi|nccl.
#pragma once

#include <torch/types.h>

#include <memory>
#include <string>

#include "dist/context.h"

namespace rave::dist {

class Communicator {
 public:
  virtual ~Communicator() = default;

  // "mpi" or "nccl".
  virtual const char* backend() const = 0;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;

  // Collectives work in place on contiguous float32, float64 or int64 tensors on any device, and leave the
  // tensor where it was: each backend moves what it cannot read itself (MpiCommunicator stages device tensors
  // through pinned host memory; the NCCL backend sends host tensors to MPI, see RoutingCommunicator). They
  // must be called by every rank in the same order with tensors of the same size and device; anything else
  // throws DistError.
  // Replaces `tensor` on every rank by the element-wise sum over all ranks.
  virtual void all_reduce_sum(const torch::Tensor& tensor) = 0;
  // Replaces `tensor` on every rank by its value on `root`.
  virtual void broadcast(const torch::Tensor& tensor, int root) = 0;
  // Returns once every rank has called it (and, for a GPU backend, its earlier collectives have finished).
  virtual void barrier() = 0;
  // Logs `message` and ends every rank of the job.
  [[noreturn]] virtual void abort(const std::string& message) = 0;
};

// The communicator for --backend: "mpi", "nccl", or "auto" (NCCL when this rank computes on a CUDA device
// and NCCL is compiled in, MPI otherwise). NCCL comes routed: device tensors to NCCL, host tensors to MPI. A
// backend that cannot be used here is a UsageError saying why.
// `collective_timeout_seconds` > 0 starts a watchdog that ends the job when a collective takes longer.
std::unique_ptr<Communicator> make_communicator(const Context& context, const std::string& backend,
                                                double collective_timeout_seconds = 0);

// Whether this build has the NCCL backend.
bool nccl_compiled();

// For the backends: throw DistError (naming `where`, the operation and the problem) unless `tensor` is
// defined, contiguous and of a dtype both backends support, or unless `root` is a rank of the world.
void check_collective_tensor(const torch::Tensor& tensor, const std::string& operation, const std::string& where);
void check_root(int root, int world_size, const std::string& where);

// "1024 float32 elements": what a collective works on, for watchdog messages.
std::string describe_elements(const torch::Tensor& tensor);

// "host h rank r", how communication errors name the process they happened in.
std::string describe_process(const Context& context);

}  // namespace rave::dist
