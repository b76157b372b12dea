// The residual pass's mean over a dataset that does not divide evenly among the ranks (7 items on 1, 2 and 3
// ranks, exact-mode shards): the same mean as one process, up to float64 rounding.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "dist/context.h"
#include "dist/mean_embedding.h"
#include "dist/mpi_communicator.h"
#include "dist/shard_sampler.h"

namespace rave::dist {
namespace {

class MeanEmbeddingTest : public testing::Test {
 protected:
  Context context{nullptr, nullptr, {"cpu", 1}};
  MpiCommunicator comm{context, 60};
};

TEST_F(MeanEmbeddingTest, UnevenShardsGiveTheSingleProcessMean) {
  torch::manual_seed(4);
  const auto embeddings = torch::nn::functional::normalize(torch::randn({7, 5}),
                                                           torch::nn::functional::NormalizeFuncOptions().dim(1));
  const auto expected = embeddings.to(torch::kFloat64).mean(0);

  const ShardSampler sampler(7, context.rank(), context.world_size(), 11, ShardMode::kExact);
  auto sum = torch::zeros({5}, torch::kFloat64);
  for (int64_t i : sampler.shard(0)) sum += embeddings[i].to(torch::kFloat64);
  const auto result = all_reduce_mean_embedding(comm, sum, sampler.shard_size());

  EXPECT_EQ(result.count, 7);
  EXPECT_EQ(result.mean.scalar_type(), torch::kFloat64);
  EXPECT_LE((result.mean - expected).abs().max().item<double>(), 1e-15);
}

TEST_F(MeanEmbeddingTest, RanksWithoutItemsTakePart) {
  // 2 items: with 3 ranks the last one holds none.
  const ShardSampler sampler(2, context.rank(), context.world_size(), 11, ShardMode::kExact);
  auto sum = torch::zeros({2, 3}, torch::kFloat64);
  for (int64_t i : sampler.shard(0)) sum += static_cast<double>(i + 1);
  const auto result = all_reduce_mean_embedding(comm, sum, sampler.shard_size());
  EXPECT_EQ(result.count, 2);
  EXPECT_EQ(result.mean.sizes(), torch::IntArrayRef({2, 3}));
  EXPECT_TRUE(result.mean.allclose(torch::full({2, 3}, 1.5, torch::kFloat64)));
}

TEST_F(MeanEmbeddingTest, NoItemsAnywhereIsAnError) {
  EXPECT_THROW(all_reduce_mean_embedding(comm, torch::zeros({4}), 0), Error);
}

}  // namespace
}  // namespace rave::dist
