// ClipModel behaviour that needs no reference numbers: frozen parameters with gradients flowing to the inputs,
// the ViT's class-token-only last block, the causal structure of the soft-prompt path, bf16 autocast, and input
// errors.
#include "models/clip/clip_model.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/torch_compat.h"

namespace rave::models {
namespace {

ClipConfig small(bool vit) {
  ClipConfig c;
  c.image_resolution = 64;
  c.vision_patch_size = vit ? 16 : 0;
  c.vision_layers = vit ? std::vector<int64_t>{2} : std::vector<int64_t>{1, 1, 1, 1};
  c.vision_width = vit ? 64 : 8;
  c.vision_heads = vit ? 1 : 4;
  c.embed_dim = 16;
  c.context_length = 12;
  c.vocab_size = 60;
  c.transformer_width = 64;
  c.transformer_heads = 2;
  c.transformer_layers = 2;
  return c;
}

TEST(ClipModel, GradientsReachInputsNotParameters) {
  torch::manual_seed(0);
  for (bool vit : {true, false}) {
    ClipModel model(small(vit));
    const torch::Tensor images = torch::randn({2, 3, 64, 64}).requires_grad_();
    model->encode_image(images).sum().backward();
    ASSERT_TRUE(images.grad().defined());
    EXPECT_GT(images.grad().abs().sum().item<double>(), 0);
    for (const auto& p : model->parameters()) EXPECT_FALSE(p.grad().defined());
  }
}

TEST(ClipModel, FirstPositionOfTheTransformerIsItsFullOutputThere) {
  // The ViT reads the class token only, so its last block computes that position alone.
  torch::manual_seed(0);
  Transformer transformer(64, 3, 4);
  const torch::Tensor x = torch::randn({3, 10, 64});
  const torch::Tensor first = transformer->first_position(x);
  ASSERT_EQ(first.sizes(), torch::IntArrayRef({3, 1, 64}));
  EXPECT_LE((first - transformer->forward(x).narrow(1, 0, 1)).abs().max().item<double>(), 1e-5);
}

TEST(ClipModel, SoftPromptIsCausal) {
  torch::manual_seed(0);
  ClipModel model(small(true));
  const torch::Tensor prompts = torch::randn({2, 12, 64}).requires_grad_();
  const torch::Tensor out = model->encode_text_embeddings(prompts, torch::tensor({5}, torch::kInt32));
  EXPECT_EQ(out.sizes(), torch::IntArrayRef({2, 16}));
  out.sum().backward();
  // Positions after the end index never influence the output.
  EXPECT_GT(prompts.grad().narrow(1, 0, 6).abs().sum().item<double>(), 0);
  EXPECT_EQ(prompts.grad().narrow(1, 6, 6).abs().sum().item<double>(), 0);
  // Per-row indices, and the same rows through token ids.
  const torch::Tensor ids =
      torch::tensor({{1, 7, 59, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {1, 8, 9, 10, 59, 0, 0, 0, 0, 0, 0, 0}}, torch::kInt32);
  torch::NoGradGuard no_grad;
  const torch::Tensor embedded = model->token_embedding(ids.to(torch::kLong));
  const torch::Tensor by_ids = model->encode_text(ids);
  const torch::Tensor by_embeddings = model->encode_text_embeddings(embedded, torch::tensor({2, 4}));
  EXPECT_LE((by_ids - by_embeddings).abs().max().item<double>(), 1e-6);
  EXPECT_THROW(model->encode_text_embeddings(embedded, torch::tensor({12})), Error);
}

TEST(ClipModel, EncodingAfterTheCachedStartTokenEqualsEncodeText) {
  torch::manual_seed(0);
  ClipModel model(small(true));
  // Start token 1, end token 59 (the largest id); rows of different lengths, padded.
  const torch::Tensor ids = torch::tensor({{1, 59, 0, 0, 0}, {1, 7, 59, 0, 0}, {1, 8, 9, 10, 59}}, torch::kInt32);
  torch::NoGradGuard no_grad;
  const StartTokenCache start = model->cache_start_token(1);
  EXPECT_LE((model->encode_text_after_start(ids, start) - model->encode_text(ids)).abs().max().item<double>(), 1e-5);
  // Under bf16 both paths run under autocast and still agree to bf16's rounding.
  model->set_precision(Precision::kBFloat16);
  const StartTokenCache start16 = model->cache_start_token(1);
  const torch::Tensor text16 = model->encode_text(ids);
  EXPECT_LE((model->encode_text_after_start(ids, start16) - text16).norm().item<double>(),
            0.05 * text16.norm().item<double>());
  EXPECT_THROW(model->encode_text_after_start(ids.narrow(1, 1, 4), start), Error);           // no start token
  EXPECT_THROW(model->encode_text_after_start(torch::tensor({{1, 0, 0}}), start), Error);    // no end token
  EXPECT_THROW(model->cache_start_token(60), Error);                                          // outside the vocabulary
}

TEST(ClipModel, Bf16AutocastIsCloseAndScoped) {
  torch::manual_seed(0);
  for (bool vit : {true, false}) {
    ClipModel model(small(vit));
    torch::NoGradGuard no_grad;
    const torch::Tensor images = torch::randn({2, 3, 64, 64});
    const torch::Tensor ids = torch::tensor({{1, 7, 59, 0}, {1, 8, 9, 59}}, torch::kInt32);
    const torch::Tensor image32 = model->encode_image(images), text32 = model->encode_text(ids);
    model->set_precision(Precision::kBFloat16);
    const torch::Tensor image16 = model->encode_image(images), text16 = model->encode_text(ids);
    EXPECT_FALSE(core::autocast_enabled(c10::DeviceType::CPU));
    EXPECT_EQ(image16.scalar_type(), torch::kFloat32);
    EXPECT_EQ(text16.scalar_type(), torch::kFloat32);
    EXPECT_FALSE(torch::equal(image16, image32));  // autocast did something
    EXPECT_LE((image16 - image32).norm().item<double>(), 0.05 * image32.norm().item<double>());
    EXPECT_LE((text16 - text32).norm().item<double>(), 0.05 * text32.norm().item<double>());
    if (!vit) {
      const auto taps = model->image_features(images);
      for (const auto& tap : taps) EXPECT_EQ(tap.scalar_type(), torch::kFloat32);
    }
  }
  EXPECT_EQ(parse_precision("bf16"), Precision::kBFloat16);
  EXPECT_THROW(parse_precision("fp16"), UsageError);
}

TEST(ClipModel, InputErrors) {
  ClipModel vit(small(true));
  EXPECT_THROW(vit->encode_image(torch::zeros({1, 3, 32, 32})), Error);         // wrong resolution
  EXPECT_THROW(vit->encode_image(torch::zeros({3, 64, 64})), Error);            // no batch dimension
  EXPECT_THROW(vit->image_features(torch::zeros({1, 3, 64, 64})), Error);       // taps are ResNet-only
  EXPECT_THROW(vit->encode_text(torch::zeros({1, 13}, torch::kInt32)), Error);  // longer than the context
  EXPECT_THROW(vit->encode_text(torch::zeros({1, 12})), Error);                 // not integer ids
}

}  // namespace
}  // namespace rave::models
