// A cache of the CPU memory behind large tensors, for long runs of identical steps (training, residual passes).
//
// LibTorch's CPU allocator asks malloc for every tensor, and glibc serves each block above its mmap threshold
// (at most 32 MiB) with a fresh mapping that it unmaps on free: every training step page-faults its activation
// buffers in again, zero-filled by the kernel (~360,000 faults and 10-15 % of a CPU step at 256x256, bench/
// compare.sh). Once installed, blocks of 1 MiB and more are rounded up to 2 MiB (a transparent huge page),
// kept when freed and handed out again for the same rounded size, so the next step finds them resident. The
// blocks kept never exceed the largest amount that was live at once, so the process's footprint stays that of
// its busiest moment. Smaller tensors go to LibTorch's allocator as before.
#pragma once

#include <cstddef>

namespace rave::core {

// Makes the cache LibTorch's CPU allocator for the rest of the process (idempotent). Not for one-shot work
// such as `rave enhance`, which has no next step to reuse the blocks.
void install_cpu_block_cache();

// Returns every cached block to the system and restarts the peak the cache may keep from what is live now:
// for measuring steps of another size (rave train --dry-run), whose blocks would not reuse these.
void drop_cpu_block_cache();

struct CpuBlockCacheStats {
  size_t live_bytes = 0;    // in tensors now
  size_t cached_bytes = 0;  // freed and kept for reuse
  size_t peak_live_bytes = 0;
  size_t peak_held_bytes = 0;  // the most that was live and cached at once: what the cache made resident
  size_t fresh_blocks = 0;   // blocks obtained from the system
  size_t reused_blocks = 0;  // allocations served from the cache
};
CpuBlockCacheStats cpu_block_cache_stats();

}  // namespace rave::core
