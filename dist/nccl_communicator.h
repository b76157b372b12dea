// The NCCL backend of Communicator, for CUDA tensors. Compiled only when CMake finds CUDA and NCCL
// (RAVE_HAVE_NCCL); it needs nothing of LibTorch's CUDA side except, when LibTorch has it (RAVE_TORCH_CUDA),
// the current stream to order its work after. Collectives run on a stream of their own that is joined to the
// compute stream with events in both directions, so the host never waits for them; a Watchdog polls each
// one for completion, NCCL's asynchronous errors and the --collective-timeout.
#pragma once

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <memory>
#include <string>

#include "dist/communicator.h"
#include "dist/watchdog.h"

namespace rave::dist {

class NcclCommunicator : public Communicator {
 public:
  // Uses the CUDA device of `context` (which must be one). Collective: every rank constructs it together.
  explicit NcclCommunicator(const Context& context, double collective_timeout_seconds = 0);
  ~NcclCommunicator() override;
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;

  const char* backend() const override { return "nccl"; }
  int rank() const override { return context_.rank(); }
  int world_size() const override { return context_.world_size(); }

  void all_reduce_sum(const torch::Tensor& tensor) override;
  void broadcast(const torch::Tensor& tensor, int root) override;
  void barrier() override;
  [[noreturn]] void abort(const std::string& message) override;

 private:
  // Queues `enqueue(stream)` (one NCCL call) between the compute stream's work so far and its work to come.
  template <typename Enqueue>
  void collective(const std::string& what, Enqueue enqueue);
  void check_tensor(const torch::Tensor& tensor, const std::string& operation) const;
  cudaStream_t compute_stream() const;

  const Context& context_;
  std::string where_;
  int device_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t inputs_ready_ = nullptr;
  float* barrier_word_ = nullptr;       // device memory the barrier's all-reduce works on
  std::unique_ptr<Watchdog> watchdog_;  // last: stops polling before the communicator goes
};

}  // namespace rave::dist
