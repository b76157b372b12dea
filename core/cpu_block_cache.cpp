#include "core/cpu_block_cache.h"

#include <c10/core/CPUAllocator.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "core/torch_compat.h"

namespace rave::core {
namespace {

constexpr size_t kSmallestCached = size_t(1) << 20;
constexpr size_t kGranule = size_t(2) << 20;  // one transparent huge page

// Every DataPtr's context is its data pointer, as LibTorch's raw_allocate() requires; the sizes of the cached
// blocks in use are looked up by pointer.
class CpuBlockCache final : public core::HostAllocator {
 public:
  explicit CpuBlockCache(c10::Allocator* fallback) : fallback_(fallback), fallback_deleter_(fallback->raw_deleter()) {}

  c10::DataPtr allocate_bytes(size_t bytes) const override {
    void* data = bytes < kSmallestCached ? fallback_->raw_allocate(bytes)
                                         : take((bytes + kGranule - 1) / kGranule * kGranule);
    return {data, data, &release, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &release; }

  CpuBlockCacheStats stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

  // Back to the state of a fresh cache, the blocks in use aside.
  void restart() const {
    drop_cached();
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.peak_live_bytes = stats_.peak_held_bytes = stats_.live_bytes;
  }

 private:
  void* take(size_t size) const {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stats_.live_bytes += size;
      stats_.peak_live_bytes = std::max(stats_.peak_live_bytes, stats_.live_bytes);
      std::vector<void*>& blocks = free_[size];
      if (!blocks.empty()) {
        void* data = blocks.back();
        blocks.pop_back();
        stats_.cached_bytes -= size;
        ++stats_.reused_blocks;
        in_use_[data] = size;
        return data;
      }
      ++stats_.fresh_blocks;
    }
    void* data = std::aligned_alloc(kGranule, size);
    if (data == nullptr) {
      drop_cached();  // the memory of other sizes may be all that is missing
      data = std::aligned_alloc(kGranule, size);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (data == nullptr) {
      stats_.live_bytes -= size;
      throw std::bad_alloc();
    }
    stats_.peak_held_bytes = std::max(stats_.peak_held_bytes, stats_.live_bytes + stats_.cached_bytes);
    madvise(data, size, MADV_HUGEPAGE);  // a hint: fewer faults and TLB misses where the kernel agrees
    in_use_[data] = size;
    return data;
  }

  // Back to the cache while it holds less than the peak, else to the system; small blocks to the fallback.
  void put(void* data) const {
    std::unique_lock<std::mutex> lock(mutex_);
    const auto found = in_use_.find(data);
    if (found == in_use_.end()) {
      lock.unlock();
      fallback_deleter_(data);
      return;
    }
    const size_t size = found->second;
    in_use_.erase(found);
    stats_.live_bytes -= size;
    if (stats_.cached_bytes + size <= stats_.peak_live_bytes) {
      free_[size].push_back(data);
      stats_.cached_bytes += size;
      return;
    }
    lock.unlock();
    std::free(data);
  }

  void drop_cached() const {
    std::vector<void*> dropped;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto& [size, blocks] : free_) dropped.insert(dropped.end(), blocks.begin(), blocks.end());
      free_.clear();
      stats_.cached_bytes = 0;
    }
    for (void* data : dropped) std::free(data);
  }

  static void release(void* data);

  c10::Allocator* fallback_;
  c10::DeleterFnPtr fallback_deleter_;
  mutable std::mutex mutex_;
  mutable std::unordered_map<size_t, std::vector<void*>> free_;
  mutable std::unordered_map<void*, size_t> in_use_;
  mutable CpuBlockCacheStats stats_;
};

// Never destroyed: tensors may be freed during static destruction, after any local object would be gone.
CpuBlockCache* installed = nullptr;
std::once_flag install_once;

void CpuBlockCache::release(void* data) { installed->put(data); }

}  // namespace

void install_cpu_block_cache() {
  std::call_once(install_once, [] {
    // Small blocks are freed through the current allocator's raw deleter; LibTorch's own has one.
    if (c10::GetCPUAllocator()->raw_deleter() == nullptr) return;
    installed = new CpuBlockCache(c10::GetCPUAllocator());
    c10::SetCPUAllocator(installed, /*priority=*/1);
  });
}

void drop_cpu_block_cache() {
  if (installed) installed->restart();
}

CpuBlockCacheStats cpu_block_cache_stats() { return installed ? installed->stats() : CpuBlockCacheStats{}; }

}  // namespace rave::core
