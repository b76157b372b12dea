#include "dist/random.h"

#include <cstddef>
#include <numeric>
#include <utility>

namespace rave::dist {

uint64_t mix64(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t SplitMix64::next() {
  state_ += 0x9e3779b97f4a7c15ULL;  // 2^64 / golden ratio: a Weyl sequence visiting every 64-bit state
  return mix64(state_);
}

uint64_t SplitMix64::below(uint64_t bound) {
  // 2^64 mod bound values at the bottom of the range would be drawn once more often than the others;
  // skipping them leaves a whole number of copies of [0, bound).
  const uint64_t skip = (0 - bound) % bound;
  uint64_t x = next();
  while (x < skip) x = next();
  return x % bound;
}

uint64_t stream_seed(uint64_t seed, uint64_t stream) {
  // Mixing the stream number first keeps nearby streams (epochs 0, 1, 2) far apart in the seed space.
  return mix64(seed ^ mix64(stream + 0x9e3779b97f4a7c15ULL));
}

std::vector<int64_t> shuffled_indices(int64_t n, uint64_t seed, uint64_t stream) {
  std::vector<int64_t> indices(static_cast<size_t>(n));
  std::iota(indices.begin(), indices.end(), int64_t{0});
  SplitMix64 rng(stream_seed(seed, stream));
  for (int64_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<int64_t>(rng.below(static_cast<uint64_t>(i) + 1));
    std::swap(indices[static_cast<size_t>(i)], indices[static_cast<size_t>(j)]);
  }
  return indices;
}

}  // namespace rave::dist
