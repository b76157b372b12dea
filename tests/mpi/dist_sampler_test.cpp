// ShardSampler across real ranks: the shards of all processes are disjoint pieces of one permutation.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "dist/context.h"
#include "dist/per_rank.h"
#include "dist/random.h"
#include "dist/shard_sampler.h"

namespace rave::dist {
namespace {

// Every rank's shard, gathered on every rank (-1 pads the shorter exact-mode shards).
std::vector<std::vector<int64_t>> gather_shards(const Context& context, const ShardSampler& sampler, int64_t epoch,
                                                int64_t longest) {
  std::vector<int64_t> mine = sampler.shard(epoch);
  mine.resize(static_cast<size_t>(longest), -1);
  // float64 holds these small indices exactly.
  const auto rows = gather_rows(*make_communicator(context, "mpi"),
                                torch::tensor(std::vector<double>(mine.begin(), mine.end()), torch::kFloat64));
  const auto all_rows = rows.to(torch::kInt64).contiguous();
  const std::vector<int64_t> all(all_rows.data_ptr<int64_t>(), all_rows.data_ptr<int64_t>() + all_rows.numel());
  std::vector<std::vector<int64_t>> shards;
  for (int r = 0; r < context.world_size(); ++r) {
    shards.emplace_back(all.begin() + r * longest, all.begin() + (r + 1) * longest);
  }
  return shards;
}

TEST(ShardSamplerAcrossRanks, ShardsInterleaveOnePermutationInEveryEpoch) {
  Context context(nullptr, nullptr, {"cpu", 1});
  const int world = context.world_size();
  const int64_t n = 10, longest = (n + world - 1) / world;
  for (auto mode : {ShardMode::kExact, ShardMode::kPadded}) {
    const ShardSampler sampler(n, context.rank(), world, 1143, mode);
    for (int64_t epoch : {0, 1}) {
      // This process's own draw of the permutation must be the one all ranks' shards come from.
      const auto order = shuffled_indices(n, 1143, static_cast<uint64_t>(epoch));
      const auto shards = gather_shards(context, sampler, epoch, longest);
      std::vector<int64_t> seen;
      for (int r = 0; r < world; ++r) {
        for (int64_t i = 0; i < longest; ++i) {
          const int64_t position = r + i * world;
          const int64_t item = shards[r][i];
          if (mode == ShardMode::kExact && position >= n) {
            EXPECT_EQ(item, -1);
            continue;
          }
          EXPECT_EQ(item, order[position % n]) << "rank " << r << " position " << position;
          if (position < n) seen.push_back(item);
        }
      }
      std::sort(seen.begin(), seen.end());
      EXPECT_EQ(seen.size(), static_cast<size_t>(n));
      EXPECT_TRUE(std::adjacent_find(seen.begin(), seen.end()) == seen.end());
    }
  }
}

}  // namespace
}  // namespace rave::dist
