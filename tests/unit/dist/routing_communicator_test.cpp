// RoutingCommunicator: which backend each collective goes to (recording fakes; a meta tensor stands in for a
// device tensor, which this machine may not be able to create). The host path across real ranks is in
// tests/mpi/dist_communicator_test.cpp.
#include "dist/routing_communicator.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/error.h"

namespace rave::dist {
namespace {

class RecordingCommunicator : public Communicator {
 public:
  RecordingCommunicator(const char* name, std::vector<std::string>& calls, int world = 1)
      : name_(name), calls_(calls), world_(world) {}
  const char* backend() const override { return name_; }
  int rank() const override { return 0; }
  int world_size() const override { return world_; }
  void all_reduce_sum(const torch::Tensor& tensor) override { record("all_reduce", tensor); }
  void broadcast(const torch::Tensor& tensor, int root) override { record("broadcast", tensor); }
  void barrier() override { calls_.push_back(std::string(name_) + " barrier"); }
  [[noreturn]] void abort(const std::string& message) override { throw DistError(name_ + (" abort: " + message)); }

 private:
  void record(const char* what, const torch::Tensor& tensor) {
    calls_.push_back(std::string(name_) + " " + what + " " + tensor.device().str());
  }
  const char* name_;
  std::vector<std::string>& calls_;
  int world_;
};

struct Routed {
  std::vector<std::string> calls;
  RoutingCommunicator comm{std::make_unique<RecordingCommunicator>("nccl", calls),
                           std::make_unique<RecordingCommunicator>("mpi", calls)};
};

TEST(RoutingCommunicator, HostTensorsGoToTheHostBackendDeviceTensorsToTheDeviceBackend) {
  Routed routed;
  routed.comm.all_reduce_sum(torch::ones({3}, torch::kFloat64));
  routed.comm.all_reduce_sum(torch::empty({3}, torch::TensorOptions().device(torch::kMeta)));
  routed.comm.broadcast(torch::zeros({2}, torch::kInt64), 0);
  routed.comm.broadcast(torch::empty({2}, torch::TensorOptions().device(torch::kMeta)), 0);
  EXPECT_EQ(routed.calls, (std::vector<std::string>{"mpi all_reduce cpu", "nccl all_reduce meta", "mpi broadcast cpu",
                                                    "nccl broadcast meta"}));
}

TEST(RoutingCommunicator, NamesTheDeviceBackendAndBarriersBoth) {
  Routed routed;
  EXPECT_STREQ(routed.comm.backend(), "nccl");
  EXPECT_EQ(routed.comm.world_size(), 1);
  routed.comm.barrier();
  EXPECT_EQ(routed.calls, (std::vector<std::string>{"nccl barrier", "mpi barrier"}));
  EXPECT_THROW(routed.comm.abort("stop"), DistError);
}

TEST(RoutingCommunicator, RefusesBackendsOfDifferentWorlds) {
  std::vector<std::string> calls;
  EXPECT_THROW(RoutingCommunicator(std::make_unique<RecordingCommunicator>("nccl", calls, 2),
                                   std::make_unique<RecordingCommunicator>("mpi", calls, 1)),
               DistError);
}

}  // namespace
}  // namespace rave::dist
