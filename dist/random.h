// Random numbers whose sequence is fixed by this code alone, for everything that must come out the same on
// every rank and every machine (shard permutations). std::mt19937 itself is portable, but
// std::uniform_int_distribution and std::shuffle are implementation-defined: ranks built against different
// standard libraries could shuffle differently. SplitMix64 is Steele, Lea & Flood (2014).
#pragma once

#include <cstdint>
#include <vector>

namespace rave::dist {

// The SplitMix64 finaliser: a bijective mix of 64 bits (every input bit affects every output bit).
uint64_t mix64(uint64_t x);

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  uint64_t next();
  // Uniform in [0, bound) for bound > 0, without the bias of a plain modulo (rejection sampling).
  uint64_t below(uint64_t bound);

 private:
  uint64_t state_;
};

// A seed for the independent stream `stream` (an epoch, a rank, ...) of the run seeded with `seed`.
uint64_t stream_seed(uint64_t seed, uint64_t stream);

// A permutation of 0..n-1: Fisher-Yates driven by SplitMix64(stream_seed(seed, stream)).
std::vector<int64_t> shuffled_indices(int64_t n, uint64_t seed, uint64_t stream);

}  // namespace rave::dist
