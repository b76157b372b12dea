// core/torch_compat.h on whichever LibTorch this tree was built against (CI builds both): the optimizer state
// key, the autocast state per device, the host allocator base; and launch/optimizer_state, which resume relies
// on and which reads the optimizer's state through that key.
#include "core/torch_compat.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <cstring>

#include "launch/optimizer_state.h"

namespace rave::core {
namespace {

torch::OrderedDict<std::string, torch::Tensor> two_parameters() {
  torch::manual_seed(3);
  torch::OrderedDict<std::string, torch::Tensor> parameters;
  parameters.insert("weight", torch::randn({3, 2}).requires_grad_());
  parameters.insert("bias", torch::randn({3}).requires_grad_());
  return parameters;
}

void take_step(torch::optim::Adam& adam, const torch::OrderedDict<std::string, torch::Tensor>& parameters) {
  adam.zero_grad();
  (parameters["weight"].square().sum() + parameters["bias"].sum() * 3).backward();
  adam.step();
}

TEST(TorchCompat, OptimizerStateKeyFindsTheStateAdamKeeps) {
  const auto parameters = two_parameters();
  torch::optim::Adam adam(parameters.values(), torch::optim::AdamOptions(0.1));
  take_step(adam, parameters);
  ASSERT_EQ(adam.state().size(), 2u);
  for (const auto& item : parameters) EXPECT_EQ(adam.state().count(optimizer_state_key(item.value())), 1u);
  EXPECT_EQ(adam.state().count(optimizer_state_key(torch::zeros({1}))), 0u);
}

TEST(TorchCompat, AdamStateRoundTripContinuesTheSameTrajectory) {
  const auto straight = two_parameters();
  torch::optim::Adam straight_adam(straight.values(), torch::optim::AdamOptions(0.1).weight_decay(1e-3));
  for (int i = 0; i < 3; ++i) take_step(straight_adam, straight);
  const launch::NamedTensors saved = launch::adam_state(straight_adam, straight);
  ASSERT_EQ(saved.size(), 6u);
  EXPECT_EQ(saved.at("step/bias").item<int64_t>(), 3);

  torch::OrderedDict<std::string, torch::Tensor> resumed;
  for (const auto& item : straight) resumed.insert(item.key(), item.value().detach().clone().requires_grad_());
  torch::optim::Adam resumed_adam(resumed.values(), torch::optim::AdamOptions(0.1).weight_decay(1e-3));
  launch::load_adam_state(resumed_adam, resumed, saved, "test");
  take_step(straight_adam, straight);
  take_step(resumed_adam, resumed);
  for (const auto& item : straight) EXPECT_TRUE(item.value().equal(resumed[item.key()])) << item.key();
}

TEST(TorchCompat, AutocastStatePerDeviceIsSetAndRestored) {
  const auto device = c10::DeviceType::CPU;
  const bool was_enabled = autocast_enabled(device);
  const c10::ScalarType was_dtype = autocast_dtype(device);
  set_autocast_dtype(device, c10::kBFloat16);
  set_autocast_enabled(device, true);
  EXPECT_TRUE(autocast_enabled(device));
  EXPECT_EQ(autocast_dtype(device), c10::kBFloat16);
  EXPECT_FALSE(autocast_enabled(c10::DeviceType::CUDA));  // the devices' states are separate
  set_autocast_enabled(device, was_enabled);
  set_autocast_dtype(device, was_dtype);
  EXPECT_EQ(autocast_enabled(device), was_enabled);
}

// The smallest HostAllocator: what the block cache derives from, on both allocator APIs.
class MallocAllocator final : public HostAllocator {
 public:
  c10::DataPtr allocate_bytes(size_t bytes) const override {
    void* data = std::malloc(bytes);
    return {data, data, &std::free, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &std::free; }
};

TEST(TorchCompat, HostAllocatorServesAllocateAndRawAllocate) {
  MallocAllocator allocator;
  c10::Allocator& base = allocator;
  c10::DataPtr block = base.allocate(64);
  ASSERT_NE(block.get(), nullptr);
  std::memset(block.get(), 7, 64);
  EXPECT_EQ(static_cast<unsigned char*>(block.get())[63], 7);
  void* raw = base.raw_allocate(16);
  base.raw_deallocate(raw);
}

}  // namespace
}  // namespace rave::core
