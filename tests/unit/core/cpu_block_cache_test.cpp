// The CPU block cache (core/cpu_block_cache.h), installed once for this whole test program: large blocks come
// back for the next tensor of the same rounded size, small ones are left to LibTorch, the cache never holds
// more than the peak that was live, and tensors built on reused blocks compute as usual.
#include "core/cpu_block_cache.h"

#include <c10/core/CPUAllocator.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

namespace rave::core {
namespace {

constexpr int64_t kMiB = int64_t(1) << 20;

class CpuBlockCache : public testing::Test {
 protected:
  static void SetUpTestSuite() { install_cpu_block_cache(); }
};

TEST_F(CpuBlockCache, AFreedLargeBlockServesTheNextTensorOfTheSameRoundedSize) {
  void* first = nullptr;
  {
    const torch::Tensor a = torch::empty({3 * kMiB}, torch::kUInt8);  // rounded up to 4 MiB
    first = a.data_ptr();
    EXPECT_EQ(reinterpret_cast<uintptr_t>(first) % (2 * kMiB), 0u);  // aligned to a huge page
  }
  const CpuBlockCacheStats before = cpu_block_cache_stats();
  const torch::Tensor b = torch::empty({4 * kMiB - 100}, torch::kUInt8);  // the same 4 MiB class
  EXPECT_EQ(b.data_ptr(), first);
  const CpuBlockCacheStats after = cpu_block_cache_stats();
  EXPECT_EQ(after.reused_blocks, before.reused_blocks + 1);
  EXPECT_EQ(after.fresh_blocks, before.fresh_blocks);
  EXPECT_EQ(after.live_bytes, before.live_bytes + size_t(4 * kMiB));
}

TEST_F(CpuBlockCache, SmallTensorsAreLeftToLibTorch) {
  const CpuBlockCacheStats before = cpu_block_cache_stats();
  const torch::Tensor small = torch::ones({1000});
  EXPECT_EQ(small.sum().item<float>(), 1000.0f);
  EXPECT_EQ(cpu_block_cache_stats().live_bytes, before.live_bytes);
}

TEST_F(CpuBlockCache, KeepsNoMoreThanThePeakAndComputesAsUsual) {
  torch::manual_seed(0);
  const torch::Tensor x = torch::randn({512, 1024});
  const torch::Tensor expected = x.matmul(x.t()).sum(1);
  for (int step = 0; step < 3; ++step) {  // the same sizes every step, as in training
    const torch::Tensor y = x.matmul(x.t()).sum(1);
    EXPECT_TRUE(torch::equal(y, expected));
    const CpuBlockCacheStats stats = cpu_block_cache_stats();
    EXPECT_LE(stats.cached_bytes, stats.peak_live_bytes);
    EXPECT_LE(stats.live_bytes, stats.peak_live_bytes);
  }
}

TEST_F(CpuBlockCache, RawAllocationsRoundTrip) {
  c10::Allocator* allocator = c10::GetCPUAllocator();
  for (const size_t bytes : {size_t(100), size_t(5 * kMiB)}) {
    void* data = allocator->raw_allocate(bytes);
    ASSERT_NE(data, nullptr);
    static_cast<char*>(data)[bytes - 1] = 1;
    allocator->raw_deallocate(data);
  }
}

}  // namespace
}  // namespace rave::core
