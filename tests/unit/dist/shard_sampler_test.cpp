// The sampler of every rank of a world, built side by side in one process (the sampler needs no communication;
// tests/mpi/dist_sampler_test.cpp checks the same across real ranks).
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "dist/shard_sampler.h"

namespace rave::dist {
namespace {

std::vector<ShardSampler> world(int64_t n, int size, ShardMode mode, uint64_t seed = 5) {
  std::vector<ShardSampler> samplers;
  for (int r = 0; r < size; ++r) samplers.emplace_back(n, r, size, seed, mode);
  return samplers;
}

TEST(ShardSampler, ExactShardsAreDisjointAndCoverTheDataset) {
  for (int size : {1, 2, 3, 4, 7, 9}) {
    std::vector<int64_t> all;
    for (const auto& s : world(7, size, ShardMode::kExact)) {
      const auto shard = s.shard(0);
      EXPECT_EQ(static_cast<int64_t>(shard.size()), s.shard_size());
      all.insert(all.end(), shard.begin(), shard.end());
    }
    std::sort(all.begin(), all.end());
    EXPECT_EQ(all, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6})) << size << " ranks";
  }
}

TEST(ShardSampler, ExactShardSizesDifferByAtMostOne) {
  const auto samplers = world(7, 3, ShardMode::kExact);
  EXPECT_EQ(samplers[0].shard_size(), 3);
  EXPECT_EQ(samplers[1].shard_size(), 2);
  EXPECT_EQ(samplers[2].shard_size(), 2);
  EXPECT_EQ(world(2, 3, ShardMode::kExact)[2].shard_size(), 0);  // more ranks than items: some get none
}

TEST(ShardSampler, PaddedShardsAreEqualAndWrapAroundThePermutation) {
  const auto samplers = world(7, 3, ShardMode::kPadded);
  std::vector<int64_t> interleaved;  // positions 0, 1, 2, ... of the padded permutation
  for (int64_t i = 0; i < 3; ++i) {
    for (const auto& s : samplers) {
      ASSERT_EQ(s.shard_size(), 3);
      interleaved.push_back(s.shard(0)[i]);
    }
  }
  // 9 positions over 7 items: the first 7 are a permutation, the last 2 repeat its first 2.
  auto first = std::vector<int64_t>(interleaved.begin(), interleaved.begin() + 7);
  EXPECT_EQ(interleaved[7], first[0]);
  EXPECT_EQ(interleaved[8], first[1]);
  std::sort(first.begin(), first.end());
  EXPECT_EQ(first, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6}));
  // Fewer items than ranks: the permutation wraps more than once.
  for (const auto& s : world(2, 5, ShardMode::kPadded)) EXPECT_EQ(s.shard(0).size(), 1u);
}

TEST(ShardSampler, EpochsDrawDifferentPermutations) {
  ShardSampler s(50, 0, 1, 9);
  EXPECT_NE(s.shard(0), s.shard(1));
  EXPECT_EQ(s.shard(1), ShardSampler(50, 0, 1, 9).shard(1));
  EXPECT_NE(s.shard(0), ShardSampler(50, 0, 1, 10).shard(0));
}

TEST(ShardSampler, NextRunsAcrossEpochs) {
  ShardSampler s(5, 1, 2, 3);  // padded: 3 items per epoch
  const auto items = s.next(7);
  auto expected = s.shard(0);
  const auto epoch1 = s.shard(1), epoch2 = s.shard(2);
  expected.insert(expected.end(), epoch1.begin(), epoch1.end());
  expected.push_back(epoch2[0]);
  EXPECT_EQ(items, expected);
  EXPECT_EQ(s.state().epoch, 2);
  EXPECT_EQ(s.state().position, 1);
}

TEST(ShardSampler, ResumeContinuesTheSameSequence) {
  ShardSampler straight(11, 0, 2, 77);
  const auto reference = straight.next(20);

  ShardSampler first(11, 0, 2, 77);
  auto items = first.next(8);
  const SamplerState saved = first.state();
  ShardSampler resumed(11, 0, 2, 77);
  resumed.restore(saved);
  const auto rest = resumed.next(12);
  items.insert(items.end(), rest.begin(), rest.end());
  EXPECT_EQ(items, reference);
}

TEST(ShardSampler, RejectsBadArguments) {
  EXPECT_THROW(ShardSampler(0, 0, 1, 1), UsageError);
  EXPECT_THROW(ShardSampler(5, 2, 2, 1), Error);
  ShardSampler s(5, 0, 2, 1);
  EXPECT_THROW(s.restore({0, 4}), Error);  // a shard of 3
  EXPECT_THROW(s.restore({-1, 0}), Error);
  ShardSampler empty(2, 2, 3, 1, ShardMode::kExact);
  EXPECT_TRUE(empty.next(0).empty());
  EXPECT_THROW(empty.next(1), Error);
}

// A world of `old_size` ranks stops `position` items into an epoch; a world of `new_size` ranks continues from
// reshard(): together they visit every item of the epoch, and fewer than new_size items twice.
TEST(Reshard, ContinuesTheEpochWithoutSkippingItems) {
  const int64_t n = 11, epoch = 2;
  for (int old_size : {1, 2, 3, 4}) {
    for (int new_size : {1, 2, 3, 5}) {
      for (int64_t position = 0; position * old_size < n; ++position) {
        std::vector<int64_t> visited;
        for (const auto& s : world(n, old_size, ShardMode::kPadded)) {
          const auto shard = s.shard(epoch);
          visited.insert(visited.end(), shard.begin(), shard.begin() + position);
        }
        const SamplerState state = reshard({epoch, position}, old_size, new_size, n);
        ASSERT_EQ(state.epoch, epoch);
        for (auto& s : world(n, new_size, ShardMode::kPadded)) {
          s.restore(state);
          const auto rest = s.next(s.shard_size() - state.position);
          visited.insert(visited.end(), rest.begin(), rest.end());
        }
        std::sort(visited.begin(), visited.end());
        const int64_t total = int64_t(visited.size());
        visited.erase(std::unique(visited.begin(), visited.end()), visited.end());
        const int64_t repeats = total - int64_t(visited.size());
        EXPECT_EQ(int64_t(visited.size()), n) << old_size << " -> " << new_size << " ranks at " << position;
        const int64_t padding = new_size * ((n + new_size - 1) / new_size) - n;  // the new world's wrap-around
        EXPECT_LT(repeats - padding, new_size) << old_size << " -> " << new_size << " ranks at " << position;
      }
    }
  }
}

TEST(Reshard, SameWorldSizeKeepsTheStateAndAFinishedEpochMovesOn) {
  EXPECT_EQ(reshard({3, 2}, 2, 2, 11).position, 2);
  EXPECT_EQ(reshard({3, 2}, 2, 2, 11).epoch, 3);
  const SamplerState finished = reshard({3, 3}, 4, 2, 11);  // 12 entries handed out: only padding was left
  EXPECT_EQ(finished.epoch, 4);
  EXPECT_EQ(finished.position, 0);
  EXPECT_THROW(reshard({0, 0}, 0, 2, 11), Error);
}

}  // namespace
}  // namespace rave::dist
