// The distributed vocabulary sweep (tiny fixture ViT, CLIP's real vocabulary) gives the same embeddings as one
// process computing everything, bit for bit, on any number of ranks (mpirun -np 1, 2, 3), and rank 0's cache
// file holds them.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "analysis/vocabulary/vocabulary.h"
#include "analysis/vocabulary/vocabulary_cache.h"
#include "dist/communicator.h"
#include "dist/context.h"
#include "io/h5.h"
#include "models/clip/loader.h"
#include "tests/support/test_support.h"

namespace rave::analysis {
namespace {

namespace fs = std::filesystem;

TEST(DistributedVocabulary, EqualsTheSingleProcessSweepOnAnyNumberOfRanks) {
  RAVE_REQUIRE_FIXTURES();
  dist::Context context(nullptr, nullptr, {"cpu", 1});
  auto comm = dist::make_communicator(context, "mpi");
  const fs::path clip = test::fixtures_dir() / "clip";
  const models::Tokenizer tokenizer((clip / "bpe_simple_vocab_16e6.txt.gz").string());
  models::ClipModel model = models::load_clip((clip / "tiny_vit_state.h5").string());
  VocabularyEmbeddingOptions options;
  options.batch_size = 256;
  options.show_progress = false;
  const fs::path dir = test::shared_temp_dir(*comm, "rave-vocabulary");
  const VocabularyEmbeddings distributed =
      cached_vocabulary_embeddings(*model, tokenizer, comm.get(), dir, {"tiny_vit_state.h5", "bpe"}, options);
  comm->barrier();

  if (comm->rank() == 0) {
    const VocabularyEmbeddings alone = embed_vocabulary(*model, tokenizer, nullptr, options);
    EXPECT_TRUE(torch::equal(distributed.embeddings, alone.embeddings))
        << "max difference " << (distributed.embeddings - alone.embeddings).abs().max().item<double>();
    EXPECT_EQ(distributed.texts, alone.texts);
    EXPECT_EQ(distributed.string_ids, alone.string_ids);
    const auto cached = read_vocabulary_cache(vocabulary_cache_path(dir, vocabulary_cache_key(*model, tokenizer)),
                                              vocabulary_cache_key(*model, tokenizer));
    ASSERT_TRUE(cached.has_value());
    EXPECT_TRUE(torch::equal(cached->embeddings, alone.embeddings));
  }
  // Every rank returned the whole table.
  torch::Tensor sum = distributed.embeddings.to(torch::kFloat64).sum().reshape({1});
  const torch::Tensor mine = sum.clone();
  comm->all_reduce_sum(sum);
  EXPECT_TRUE(torch::equal(sum, mine * comm->world_size()));

  comm->barrier();
  if (comm->rank() == 0) fs::remove_all(dir);
}

}  // namespace
}  // namespace rave::analysis
