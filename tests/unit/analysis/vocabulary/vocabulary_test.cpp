// Vocabulary embeddings with the tiny fixture ViT and CLIP's real vocabulary: the per-id view equals the text
// encoder on the reference's input for each id (and the fixture's own embedding of "dark"), the dict view has
// the reference's 48,930 keys, batching does not change the numbers, the cache is keyed by the weights, and the
// token shift over the whole vocabulary reproduces the reference's.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>

#include "analysis/vocabulary/residual_correction.h"
#include "analysis/vocabulary/vocabulary.h"
#include "analysis/vocabulary/vocabulary_cache.h"
#include "core/error.h"
#include "io/h5.h"
#include "models/clip/loader.h"
#include "tests/support/test_support.h"

namespace rave::analysis {
namespace {

// One sweep shared by the tests of this file (about a second with the tiny model).
class Vocabulary : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (test::fixtures_dir().empty()) return;
    // Matrices this small gain nothing from threads, and on a busy machine waiting threads cost seconds.
    torch::set_num_threads(1);
    tokenizer_ = new models::Tokenizer(test::fixture("clip", "bpe_simple_vocab_16e6.txt.gz"));
    model_ = new models::ClipModel(models::load_clip(test::fixture("clip", "tiny_vit_state.h5")));
    VocabularyEmbeddingOptions options;
    options.show_progress = false;
    vocabulary_ = new VocabularyEmbeddings(embed_vocabulary(**model_, *tokenizer_, nullptr, options));
  }
  static void TearDownTestSuite() {
    delete vocabulary_;
    delete model_;
    delete tokenizer_;
  }
  void SetUp() override { RAVE_REQUIRE_FIXTURES(); }

  static models::Tokenizer* tokenizer_;
  static models::ClipModel* model_;
  static VocabularyEmbeddings* vocabulary_;
};
models::Tokenizer* Vocabulary::tokenizer_ = nullptr;
models::ClipModel* Vocabulary::model_ = nullptr;
VocabularyEmbeddings* Vocabulary::vocabulary_ = nullptr;

TEST_F(Vocabulary, DictViewHasTheReferencesKeys) {
  const VocabularyEmbeddings& v = *vocabulary_;
  ASSERT_EQ(v.size(), 49408);
  EXPECT_EQ(v.embeddings.sizes(), (std::vector<int64_t>{49408, 32}));
  EXPECT_EQ(v.string_count(), 48930);
  // First-insertion order, and each key holds the last id with its text (later ids overwrite earlier ones).
  std::map<std::string, int64_t> last_id;
  for (int64_t id = 0; id < v.size(); ++id) last_id[v.texts[size_t(id)]] = id;
  std::map<std::string, int> seen;
  int64_t previous_first = -1;
  for (int64_t s = 0; s < v.string_count(); ++s) {
    const std::string& text = v.string_text(s);
    EXPECT_EQ(v.string_ids[size_t(s)], last_id.at(text)) << text;
    EXPECT_EQ(seen[text]++, 0) << "duplicate key " << text;
    const auto first = std::find(v.texts.begin(), v.texts.end(), text) - v.texts.begin();
    EXPECT_GT(first, previous_first) << "keys out of first-insertion order at " << text;
    previous_first = first;
  }
  EXPECT_EQ(v.texts[3144], "dark ");
  EXPECT_EQ(v.texts[49407], "<|endoftext|>");
}

TEST_F(Vocabulary, EqualsTheEncoderOnTheReferenceInput) {
  const VocabularyEmbeddings& v = *vocabulary_;
  // The reference's loop for a few ids: tokenize(decode([id])) padded to 77, encode_text, one at a time. The
  // ids cover end-of-word tokens, an inner-word merge, punctuation, a lone byte that decodes to U+FFFD (three
  // tokens again), the NUL byte, a form feed (an empty text once cleaned) and both special tokens.
  c10::InferenceMode inference;
  for (const int32_t id : {3144, 343, 1125, 512, 40000, 0, 100, 188, 200, 49406, 49407}) {
    const torch::Tensor ids = tokenizer_->tokenize({tokenizer_->decode({id})});
    const torch::Tensor expected = (*model_)->encode_text(ids)[0];
    EXPECT_LE((v.embeddings[id] - expected).abs().max().item<double>(), 1e-5) << "id " << id;
  }
  // The fixture's own text embedding of "dark" (PyTorch, full context) is the embedding of id 3144 ("dark ").
  const io::h5::File reference = io::h5::File::open(test::fixture("clip", "tiny_reference.h5"));
  ASSERT_EQ(reference.read_strings("text/strings")[3], "dark");
  EXPECT_LE((v.embeddings[3144] - reference.read("vit/text_embedding")[3]).abs().max().item<double>(), 1e-5);
}

TEST_F(Vocabulary, EncodingAfterTheCachedStartTokenEqualsEncodeText) {
  // Rows of different lengths and padding, the longest cut at the context.
  const torch::Tensor ids = tokenizer_->tokenize({"a photo of a cat", "dark", "", "It's 2 cats!!", "<|endoftext|>",
                                                  std::string(200, 'x') + " y"}, models::Truncation::kKeepEot);
  c10::InferenceMode inference;
  const models::StartTokenCache start = (*model_)->cache_start_token(tokenizer_->start_of_text());
  EXPECT_LE(((*model_)->encode_text_after_start(ids, start) - (*model_)->encode_text(ids)).abs().max().item<double>(),
            1e-5);
  EXPECT_THROW((*model_)->encode_text_after_start(ids.narrow(1, 1, 5), start), Error);
}

TEST_F(Vocabulary, IdenticalTextsShareOneEmbedding) {
  const VocabularyEmbeddings& v = *vocabulary_;
  std::map<std::string, int64_t> first;
  int64_t duplicates = 0;
  for (int64_t id = 0; id < v.size(); ++id) {
    const auto [it, inserted] = first.emplace(v.texts[size_t(id)], id);
    if (!inserted) {
      ++duplicates;
      EXPECT_TRUE(torch::equal(v.embeddings[id], v.embeddings[it->second])) << v.texts[size_t(id)];
    }
  }
  EXPECT_EQ(duplicates, 49408 - 48930);
}

TEST_F(Vocabulary, BatchingDoesNotChangeTheResult) {
  // Every 16th text in other batches (37 texts each, other neighbours) than in the sweep.
  std::vector<std::string> texts;
  std::vector<int64_t> ids;
  for (int64_t s = 0; s < vocabulary_->string_count(); s += 16) {
    texts.push_back(vocabulary_->string_text(s));
    ids.push_back(vocabulary_->string_ids[size_t(s)]);
  }
  VocabularyEmbeddingOptions options;
  options.batch_size = 37;
  options.show_progress = false;
  const torch::Tensor embeddings = embed_texts(**model_, *tokenizer_, texts, nullptr, options);
  const torch::Tensor expected = vocabulary_->embeddings.index_select(0, torch::tensor(ids, torch::kLong));
  EXPECT_LE((embeddings - expected).abs().max().item<double>(), 1e-5);
}

TEST_F(Vocabulary, CacheRoundTripAndKeys) {
  test::ScratchDir dir;
  const VocabularyCacheKey key = vocabulary_cache_key(**model_, *tokenizer_);
  const auto path = vocabulary_cache_path(dir.path(), key);
  EXPECT_FALSE(read_vocabulary_cache(path, key).has_value());
  write_vocabulary_cache(path, *vocabulary_, key, {"tiny_vit_state.h5", "bpe"});
  const auto read = read_vocabulary_cache(path, key);
  ASSERT_TRUE(read.has_value());
  EXPECT_TRUE(torch::equal(read->embeddings, vocabulary_->embeddings));
  EXPECT_EQ(read->texts, vocabulary_->texts);
  EXPECT_EQ(read->string_ids, vocabulary_->string_ids);
  EXPECT_THROW(read_vocabulary_cache(path, {key.encoder_hash, "0000000000000000"}), IoError);

  // cached_vocabulary_embeddings finds the file it wrote (the same key), and returns the same numbers.
  const VocabularyEmbeddings cached = cached_vocabulary_embeddings(**model_, *tokenizer_, nullptr, dir.path(), {});
  EXPECT_TRUE(torch::equal(cached.embeddings, vocabulary_->embeddings));
}

TEST_F(Vocabulary, EncoderHashSeesTheTextTowerOnly) {
  models::ClipModel copy = models::load_clip(test::fixture("clip", "tiny_vit_state.h5"));
  const std::string original = text_encoder_hash(*copy);
  EXPECT_EQ(original, text_encoder_hash(**model_));
  torch::NoGradGuard no_grad;
  copy->vit->named_parameters().begin()->value().add_(1);
  EXPECT_EQ(text_encoder_hash(*copy), original) << "the image tower does not change text embeddings";
  copy->ln_final->weight.add_(1e-3);
  EXPECT_NE(text_encoder_hash(*copy), original);
}

// rave correct --remove-tokens 15 reproduces the reference's token shift (train_rave.py with
// remove_first_n_tokens = 15, on the fixture model: residual_shift15/* of losses/loss_golden.h5).
TEST_F(Vocabulary, TokenShiftOf15ReproducesTheReference) {
  const auto golden = io::h5::File::open(test::fixture("losses", "loss_golden.h5"));
  guidance::ResidualVector source;
  source.residual = golden.read("residual/residual_vector").flatten().to(torch::kFloat32);
  source.v_pos = golden.read("residual/vector_pos").flatten();
  source.v_neg = golden.read("residual/vector_neg").flatten();
  source.tau = golden.read("residual/thr").item<double>();
  source.n_pos = source.n_neg = 6;
  const TokenShift shift = shift_by_tokens(*vocabulary_, source, 15);
  const double residual_error =
      test::max_abs_error(shift.vector.residual, golden.read("residual_shift15/residual_vector").flatten());
  const double direction_error = test::max_abs_error(shift.direction, golden.read("residual_shift15/remove_emb").flatten());
  std::printf("  token shift 15: residual max abs error %.3g, removed direction %.3g\n", residual_error, direction_error);
  EXPECT_LE(residual_error, 1e-5);
  EXPECT_LE(direction_error, 1e-5);
  EXPECT_NEAR(shift.vector.tau, golden.read("residual_shift15/thr").item<double>(), 1e-5);
}

}  // namespace
}  // namespace rave::analysis
