// A Communicator that sends each collective to one of two by where its tensor lives: device tensors to a GPU
// backend, host tensors to a host backend. It is what --backend nccl (and auto on GPUs) builds: NCCL reads
// only device memory, while the trainer's loss numbers, the stop flags, the residual pass's float64 sums and
// the analysis counts are small host tensors. Sending those to MPI, which is up anyway (it bootstraps NCCL),
// keeps them off the GPU and costs no device synchronisation.
//
// Invariants:
// - Every rank routes the same call the same way: the rule depends only on the tensor's device, and the
//   call sites place their tensors identically on every rank.
// - Calls on either backend keep the caller's order; the host backend blocks until done, the device backend
//   orders its work on the device (NcclCommunicator), so a host value read after a device collective was
//   copied from the device and is synchronised by that copy.
// - barrier() returns when both backends have finished what was queued before it.
#pragma once

#include <memory>
#include <string>

#include "dist/communicator.h"

namespace rave::dist {

class RoutingCommunicator : public Communicator {
 public:
  // Both communicators span the same ranks; `device` names the backend (backend(), rank(), world_size()).
  RoutingCommunicator(std::unique_ptr<Communicator> device, std::unique_ptr<Communicator> host);

  const char* backend() const override { return device_->backend(); }
  int rank() const override { return device_->rank(); }
  int world_size() const override { return device_->world_size(); }

  void all_reduce_sum(const torch::Tensor& tensor) override;
  void broadcast(const torch::Tensor& tensor, int root) override;
  void barrier() override;
  [[noreturn]] void abort(const std::string& message) override;

 private:
  Communicator& route(const torch::Tensor& tensor) { return tensor.defined() && tensor.is_cpu() ? *host_ : *device_; }

  std::unique_ptr<Communicator> device_;
  std::unique_ptr<Communicator> host_;
};

}  // namespace rave::dist
