// The learned pairs of CLIP-LIT and CLIP-LIT-Latent: the soft-prompt path against the reference's prompt
// learner on the tiny ViT (fixtures/clip/tiny_reference.h5), the exact 0.5 of the identical initial prompts and
// the cross-entropy step that separates them, and the checkpoint state.
#include "guidance/learned_pair.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "guidance/clip_encoders.h"
#include "guidance/latent_pair.h"
#include "guidance/losses.h"
#include "guidance/photometric_encoder.h"
#include "guidance/prompt_pair.h"
#include "io/h5.h"
#include "models/clip/loader.h"
#include "tests/support/test_support.h"

namespace rave::guidance {
namespace {

class PromptPairTest : public testing::Test {
 protected:
  void SetUp() override {
    if (test::fixtures_dir().empty()) GTEST_SKIP() << "shared fixtures not found (set RAVE_FIXTURES_DIR)";
    const auto clip = test::fixtures_dir() / "clip";
    encoder_ = std::make_unique<ClipGuidanceEncoder>(models::load_clip((clip / "tiny_vit_state.h5").string()), "tiny");
    pair_ = make_learned_pair("clip-lit", *encoder_, (clip / "bpe_simple_vocab_16e6.txt.gz").string());
    reference_ = std::make_unique<io::h5::File>(io::h5::File::open((clip / "tiny_reference.h5").string()));
    losses_ = std::make_unique<io::h5::File>(
        io::h5::File::open((test::fixtures_dir() / "losses/loss_golden.h5").string()));
  }
  torch::Tensor parameter() const { return pair_->named_parameters()["prompt_embedding"]; }

  std::unique_ptr<ClipGuidanceEncoder> encoder_;
  std::unique_ptr<LearnedPair> pair_;
  std::unique_ptr<io::h5::File> reference_, losses_;
};

TEST_F(PromptPairTest, NeedsTheVocabularyToTokeniseItsPrompt) {
  EXPECT_THROW(make_learned_pair("clip-lit", *encoder_, ""), UsageError);
}

TEST_F(PromptPairTest, StartsFromTheTokenEmbeddingsOfSixteenPlaceholders) {
  EXPECT_EQ(pair_->method(), "clip-lit");
  EXPECT_EQ(dynamic_cast<PromptPair&>(*pair_).end_index(), 17);
  EXPECT_TRUE(torch::equal(parameter(), reference_->read("vit/prompt/embedding_init")));
  EXPECT_TRUE(parameter().requires_grad());
}

TEST_F(PromptPairTest, SoftPromptPathMatchesTheReferencePromptLearner) {
  EXPECT_TRUE(torch::allclose(pair_->vectors(), reference_->read("vit/prompt/output_init"), 0, 1e-5));
  // The perturbed prompts (rows differ, positions past the end token too: they must not matter).
  pair_->load_state({{"prompt_embedding", reference_->read("vit/prompt/embedding_perturbed")},
                     {"pair", torch::zeros({2, 32})}},
                    "test");
  EXPECT_TRUE(torch::allclose(pair_->vectors(), reference_->read("vit/prompt/output_perturbed"), 0, 1e-5));
}

TEST_F(PromptPairTest, IdenticalInitialPromptsScoreExactlyOneHalf) {
  const torch::Tensor features = torch::cat({losses_->read("margin/features_inp"), losses_->read("margin/features_ref")});
  const torch::Tensor s = backlit_probability(features, pair_->vectors());
  EXPECT_TRUE(torch::equal(s, torch::full({4}, 0.5f)));
  // The frozen pair the enhancer trains against is the same pair.
  EXPECT_TRUE(torch::equal(pair_->frozen_pair(), pair_->vectors().detach()));
}

TEST_F(PromptPairTest, OneCrossEntropyStepBreaksTheSymmetry) {
  // Backlit features labelled 0, well-lit ones 1 (ALGORITHMS §4.1.5), one Adam step at the reference's lr.
  const torch::Tensor features = torch::cat({losses_->read("margin/features_inp"), losses_->read("margin/features_ref")});
  const torch::Tensor labels = torch::tensor({0, 0, 1, 1}, torch::kInt64);
  torch::optim::Adam adam(pair_->named_parameters().values(),
                          torch::optim::AdamOptions(pair_->default_learning_rate()).weight_decay(1e-3));
  const torch::Tensor before = guidance_init_loss(features, labels, pair_->vectors());
  EXPECT_NEAR(before.item<double>(), std::log(2.0), 1e-6);  // every score is 0.5
  adam.zero_grad();
  before.backward();
  adam.step();
  torch::NoGradGuard no_grad;
  const torch::Tensor after = pair_->vectors();
  EXPECT_FALSE(torch::equal(after[0], after[1]));
  const torch::Tensor s = backlit_probability(features, after);
  // The scores differ now, backlit images score higher than well-lit ones on average, and the loss went down.
  EXPECT_FALSE(torch::equal(s, torch::full({4}, 0.5f))) << s;
  EXPECT_GT(s.slice(0, 0, 2).mean().item<double>(), s.slice(0, 2, 4).mean().item<double>()) << s;
  EXPECT_LT(guidance_init_loss(features, labels, after).item<double>(), before.item<double>()) << s;
}

TEST_F(PromptPairTest, StateRoundTripsAndTheFrozenPairIsStored) {
  {
    torch::NoGradGuard no_grad;
    parameter().add_(0.01);
  }
  pair_->freeze();
  const auto state = pair_->state();
  ASSERT_EQ(state.at("prompt_embedding").sizes(), torch::IntArrayRef({2, 77, 32}));
  auto other = make_learned_pair("clip-lit", *encoder_,
                                 (test::fixtures_dir() / "clip/bpe_simple_vocab_16e6.txt.gz").string());
  const torch::Tensor held = other->named_parameters()["prompt_embedding"];
  other->load_state(state, "test.h5");
  EXPECT_TRUE(torch::equal(held, state.at("prompt_embedding")));  // loaded in place: optimisers keep the tensor
  EXPECT_TRUE(torch::equal(other->frozen_pair(), pair_->frozen_pair()));
  EXPECT_THROW(other->load_state({{"pair", torch::zeros({2, 32})}}, "test.h5"), IoError);
  EXPECT_THROW(other->load_state({{"prompt_embedding", torch::zeros({2, 77, 16})}, {"pair", torch::zeros({2, 32})}},
                                 "test.h5"),
               IoError);
}

TEST(LatentPair, DrawsStandardNormalVectorsFromTheTorchSeed) {
  torch::manual_seed(3);
  LatentPair a(512);
  torch::manual_seed(3);
  LatentPair b(512);
  const torch::Tensor g = a.named_parameters()["guidance_embeddings"];
  EXPECT_EQ(g.sizes(), torch::IntArrayRef({2, 512}));
  EXPECT_TRUE(torch::equal(g, b.named_parameters()["guidance_embeddings"]));
  EXPECT_NEAR(g.mean().item<double>(), 0.0, 0.1);
  EXPECT_NEAR(g.std().item<double>(), 1.0, 0.1);
  EXPECT_TRUE(torch::equal(a.vectors(), g));  // the parameter is the pair itself
  EXPECT_EQ(a.default_learning_rate(), 5e-4);
  EXPECT_EQ(a.method(), "clip-lit-latent");
}

TEST(LatentPair, LossIsTheClipLitLossOfTheFrozenPair) {
  torch::manual_seed(0);
  LatentPair pair(8);
  const torch::Tensor features = torch::randn({3, 8});
  EXPECT_TRUE(torch::equal(pair.loss(features), clip_lit_loss(features, pair.frozen_pair())));
  EXPECT_EQ(pair.loss_weight(), 1.0);
}

TEST(LearnedPairFactory, RefusesWhatCannotWork) {
  PhotometricEncoder photometric;
  EXPECT_NO_THROW(make_learned_pair("clip-lit-latent", photometric, ""));
  EXPECT_THROW(make_learned_pair("clip-lit", photometric, "vocab.txt.gz"), UsageError);  // no text tower
  EXPECT_THROW(make_learned_pair("rave", photometric, ""), UsageError);
}

}  // namespace
}  // namespace rave::guidance
