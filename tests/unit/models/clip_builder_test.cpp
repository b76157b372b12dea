// Full-size builders (random weights, no forward pass): ViT-B/32 and RN101 have exactly the reference's
// parameter counts and state-dict keys and shapes (fixtures README §2 and real_configs_state_dict.tsv), and
// dimension inference recovers every configuration from a state dict.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "core/error.h"
#include "models/clip/clip_model.h"
#include "tests/support/test_support.h"

namespace rave::models {
namespace {

int64_t count(const std::vector<torch::Tensor>& tensors) {
  int64_t n = 0;
  for (const auto& t : tensors) n += t.numel();
  return n;
}

// key -> shape ("768x3x32x32", "scalar") of the model's state dict (parameters and buffers).
std::map<std::string, std::string> state_shapes(ClipModelImpl& model) {
  std::map<std::string, std::string> shapes;
  auto add = [&](const std::string& key, const torch::Tensor& t) {
    std::string s;
    for (int64_t d : t.sizes()) s += (s.empty() ? "" : "x") + std::to_string(d);
    shapes[key] = s.empty() ? "scalar" : s;
  };
  for (const auto& item : model.named_parameters()) add(item.key(), item.value());
  for (const auto& item : model.named_buffers()) add(item.key(), item.value());
  return shapes;
}

std::map<std::string, std::string> reference_shapes(const std::string& config) {
  std::map<std::string, std::string> shapes;
  std::ifstream in(test::fixtures_dir() / "clip/real_configs_state_dict.tsv");
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::stringstream row(line);
    std::string name, key, shape;
    std::getline(row, name, '\t');
    std::getline(row, key, '\t');
    std::getline(row, shape, '\t');
    if (name == config) shapes[key] = shape;
  }
  return shapes;
}

StateDict state_of(ClipModelImpl& model) {
  StateDict state;
  for (const auto& item : model.named_parameters()) state.insert(item.key(), item.value());
  for (const auto& item : model.named_buffers()) state.insert(item.key(), item.value());
  return state;
}

void expect_same_config(const ClipConfig& a, const ClipConfig& b) {
  EXPECT_EQ(a.to_json(), b.to_json());
  EXPECT_EQ(a.vision_heads, b.vision_heads);
}

TEST(ClipBuilder, VitB32HasTheReferenceParametersAndKeys) {
  ClipModel model(ClipConfig::vit_b32());
  EXPECT_EQ(count(model->parameters()), 151277313);
  EXPECT_EQ(count(model->named_modules()["visual"]->parameters()), 87849216);
  for (const auto& p : model->parameters()) EXPECT_FALSE(p.requires_grad());
  const auto shapes = state_shapes(*model);
  EXPECT_EQ(shapes.size(), 302u);
  EXPECT_EQ(shapes.at("visual.conv1.weight"), "768x3x32x32");
  EXPECT_EQ(shapes.at("transformer.resblocks.11.attn.in_proj_weight"), "1536x512");
  expect_same_config(ClipConfig::infer(state_of(*model), "ViT-B/32"), ClipConfig::vit_b32());
  if (!test::fixtures_dir().empty()) {
    EXPECT_EQ(shapes, reference_shapes("ViT-B/32"));
  }
}

TEST(ClipBuilder, Rn101HasTheReferenceParametersAndKeys) {
  ClipModel model(ClipConfig::rn101());
  EXPECT_EQ(count(model->parameters()), 119688033);
  EXPECT_EQ(count(model->named_modules()["visual"]->parameters()), 56259936);
  EXPECT_EQ(count(model->buffers()), 105578);  // BatchNorm running statistics and counters
  const auto shapes = state_shapes(*model);
  EXPECT_EQ(shapes.size(), 795u);
  EXPECT_EQ(shapes.at("visual.layer2.0.conv1.weight"), "128x256x1x1");
  EXPECT_EQ(shapes.at("visual.layer2.0.downsample.0.weight"), "512x256x1x1");
  EXPECT_EQ(shapes.at("visual.layer3.22.bn3.running_var"), "1024");
  EXPECT_EQ(shapes.at("visual.attnpool.positional_embedding"), "50x2048");
  expect_same_config(ClipConfig::infer(state_of(*model), "RN101"), ClipConfig::rn101());
  if (!test::fixtures_dir().empty()) {
    EXPECT_EQ(shapes, reference_shapes("RN101"));
  }
}

TEST(ClipBuilder, InfersOtherSizes) {
  // A ViT with patch 16 at 64 px (grid 4) and a ResNet with stages (2, 1, 1, 2) at 64 px (grid 2).
  ClipConfig vit;
  vit.image_resolution = 64;
  vit.vision_patch_size = 16;
  vit.vision_width = 128;
  vit.vision_heads = 2;
  vit.vision_layers = {3};
  vit.embed_dim = 48;
  vit.context_length = 20;
  vit.vocab_size = 100;
  vit.transformer_width = 128;
  vit.transformer_heads = 2;
  vit.transformer_layers = 1;
  ClipModel vit_model(vit);
  expect_same_config(ClipConfig::infer(state_of(*vit_model), "vit"), vit);

  ClipConfig rn = vit;
  rn.vision_patch_size = 0;
  rn.vision_layers = {2, 1, 1, 2};
  rn.vision_width = 8;
  rn.vision_heads = 4;
  ClipModel rn_model(rn);
  expect_same_config(ClipConfig::infer(state_of(*rn_model), "rn"), rn);
  const std::vector<torch::Tensor> taps = rn_model->image_features(torch::zeros({1, 3, 64, 64}));
  ASSERT_EQ(taps.size(), 5u);
  EXPECT_EQ(taps[0].sizes(), torch::IntArrayRef({1, 8, 16, 16}));
  EXPECT_EQ(taps[4].sizes(), torch::IntArrayRef({1, 256, 2, 2}));
  EXPECT_EQ(rn_model->encode_image(torch::zeros({2, 3, 64, 64})).sizes(), torch::IntArrayRef({2, 48}));
}

TEST(ClipBuilder, ConfigJsonRoundTrip) {
  for (const ClipConfig& c : {ClipConfig::vit_b32(), ClipConfig::rn101()}) {
    expect_same_config(ClipConfig::from_json(c.to_json(), "json"), c);
  }
  EXPECT_EQ(ClipConfig::rn101().to_json(),
            "{\"embed_dim\":512,\"image_resolution\":224,\"vision_layers\":[3,4,23,3],\"vision_width\":64,"
            "\"vision_patch_size\":null,\"context_length\":77,\"vocab_size\":49408,\"transformer_width\":512,"
            "\"transformer_heads\":8,\"transformer_layers\":12}");
  EXPECT_THROW(ClipConfig::from_json("{\"embed_dim\": 3}", "bad.h5"), IoError);
}

TEST(ClipBuilder, UnusableConfigurationsAreErrors) {
  ClipConfig c = ClipConfig::vit_b32();
  c.transformer_heads = 0;  // what width / 64 gives for the tiny models' width 32
  EXPECT_THROW(c.validate("x"), Error);
  c = ClipConfig::vit_b32();
  c.image_resolution = 225;
  EXPECT_THROW(ClipModel{c}, Error);
}

}  // namespace
}  // namespace rave::models
