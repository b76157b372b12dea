// rave eval's metrics end to end on small folders: CLIP-FID of a set with itself, the prompt score, the
// TorchScript hooks (LPIPS, Inception) with tiny modules defined here, and the three outputs.
#include "analysis/metrics/evaluate.h"

#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <fstream>
#include <sstream>

#include "analysis/metrics/clip_metrics.h"
#include "analysis/metrics/eval_output.h"
#include "analysis/metrics/frechet.h"
#include "analysis/metrics/scripted_metrics.h"
#include "core/error.h"
#include "io/image.h"
#include "tests/support/test_support.h"

namespace rave::analysis {
namespace {

namespace fs = std::filesystem;

// `count` random images of 40x48 written to `folder` as PNG, named 0.png, 1.png, ...; `shift` brightens them.
void write_images(const fs::path& folder, int count, double shift = 0) {
  fs::create_directories(folder);
  torch::manual_seed(7);
  for (int i = 0; i < count; ++i) {
    const auto image = (torch::rand({3, 40, 48}) * 0.8 + shift).clamp(0, 1);
    io::write_image((folder / (std::to_string(i) + ".png")).string(), image);
  }
}

// Scripted stand-ins with the calling conventions of the real exports.
std::string save_module(const fs::path& path, const std::string& source) {
  torch::jit::Module module("Stub");
  module.define(source);
  module.save(path.string());
  return path.string();
}


TEST(ClipMetrics, FidOfASetWithItselfIsZero) {
  RAVE_REQUIRE_FIXTURES();
  ClipScorer scorer(test::fixture("clip", "tiny_vit_state.h5"), test::fixture("clip", "bpe_simple_vocab_16e6.txt.gz"), torch::kCPU);
  ASSERT_TRUE(scorer.has_prompt_score());
  std::vector<torch::Tensor> batch;
  torch::manual_seed(3);
  for (int i = 0; i < 6; ++i) batch.push_back(scorer.preprocess((torch::rand({50, 70, 3}) * 255).to(torch::kUInt8)));
  const auto embeddings = scorer.embed(torch::stack(batch));
  ASSERT_EQ(embeddings.sizes(), (std::vector<int64_t>{6, scorer.dim()}));
  EXPECT_TRUE(torch::allclose(embeddings.norm(2, 1), torch::ones({6}), 1e-5, 1e-5));
  FeatureMoments a(scorer.dim()), b(scorer.dim());
  a.add(embeddings);
  b.add(embeddings);
  EXPECT_NEAR(frechet_distance(a, b), 0.0, 1e-6);
  const auto s = scorer.backlit_probability(embeddings);
  EXPECT_TRUE((s > 0).all().item<bool>() && (s < 1).all().item<bool>());
}

TEST(Evaluate, IdenticalFoldersScorePerfectly) {
  RAVE_REQUIRE_FIXTURES();
  test::ScratchDir dir;
  write_images(dir / "pred", 5);
  write_images(dir / "gt", 5);
  std::ofstream(dir / "gt" / "stray.png") << "never read";  // no partner: listed, not read
  EvalOptions options;
  options.clip = test::fixture("clip", "tiny_vit_state.h5");
  options.vocab = test::fixture("clip", "bpe_simple_vocab_16e6.txt.gz");
  options.batch_size = 2;  // several batches, the last one partial
  const EvalResult result = evaluate(pair_folders(dir / "pred", dir / "gt"), options, nullptr);
  ASSERT_EQ(result.values.size(0), 5);
  EXPECT_EQ(result.columns, (std::vector<std::string>{"psnr_y", "psnr_rgb", "ssim", "psnr_reference",
                                                      "ssim_reference", "clip_backlit_pred", "clip_backlit_gt"}));
  const auto column = [&](int c) { return result.values.select(1, c); };
  EXPECT_TRUE(torch::allclose(column(0), torch::full({5}, 80.0, torch::kFloat64)));
  EXPECT_TRUE(torch::allclose(column(2), torch::ones({5}, torch::kFloat64)));
  EXPECT_TRUE(torch::allclose(column(5), column(6)));
  ASSERT_EQ(result.set_metrics.size(), 1u);
  EXPECT_EQ(result.set_metrics[0].first, "fid_clip");
  EXPECT_NEAR(result.set_metrics[0].second, 0.0, 1e-6);
  EXPECT_EQ(result.pairing.unmatched_gt, (std::vector<fs::path>{dir / "gt" / "stray.png"}));

  const auto json = summary_json(result);
  EXPECT_EQ(json["pairs"], 5);
  EXPECT_NEAR(json["metrics"]["psnr_y"]["mean"].get<double>(), 80.0, 1e-9);
  EXPECT_FALSE(json["metrics"]["ssim"]["definition"].get<std::string>().empty());
  EXPECT_EQ(json["unmatched_gt"].size(), 1u);
  const std::string table = summary_table(result);
  EXPECT_NE(table.find("fid_clip"), std::string::npos);
  EXPECT_NE(table.find("5 pairs; without a partner: 0 enhanced, 1 ground truth"), std::string::npos);
  write_per_image_csv(dir / "per_image.csv", result);
  std::ifstream csv(dir / "per_image.csv");
  std::string header, first;
  std::getline(csv, header);
  std::getline(csv, first);
  EXPECT_EQ(header,
            "stem,pred,gt,psnr_y,psnr_rgb,ssim,psnr_reference,ssim_reference,clip_backlit_pred,clip_backlit_gt");
  EXPECT_EQ(first.rfind("0,", 0), 0u);
}

TEST(Evaluate, ScriptedLpipsAndInception) {
  test::ScratchDir dir;
  write_images(dir / "pred", 4, 0.1);
  write_images(dir / "gt", 4);
  EvalOptions options;
  // LPIPS stand-in: mean absolute difference of the [-1,1] inputs per pair.
  options.lpips_model =
      save_module(dir / "lpips.pt", "def forward(self, x, y):\n  return (x - y).abs().mean([1, 2, 3])\n");
  // Inception stand-in: per-channel means as 3-d features, [B,3,1,1] like a pool layer.
  options.inception_model = save_module(dir / "inception.pt", "def forward(self, x):\n  return x.mean([2, 3], True)\n");
  const EvalResult result = evaluate(pair_folders(dir / "pred", dir / "gt"), options, nullptr);
  ASSERT_EQ(result.columns.back(), "lpips");
  for (int i = 0; i < 4; ++i) {
    const auto pred = io::read_image((dir / "pred" / (std::to_string(i) + ".png")).string());
    const auto gt = io::read_image((dir / "gt" / (std::to_string(i) + ".png")).string());
    EXPECT_NEAR(result.values[i][5].item<double>(), 2 * (pred - gt).abs().mean().item<double>(), 1e-5);
  }
  ASSERT_EQ(result.set_metrics.size(), 1u);
  EXPECT_EQ(result.set_metrics[0].first, "fid_inception");
  EXPECT_GT(result.set_metrics[0].second, 0.0);  // the brightened set has a different mean
}

TEST(Evaluate, BadModelsAndSizesAreNamed) {
  test::ScratchDir dir;
  write_images(dir / "pred", 2);
  std::ofstream(dir / "junk.pt") << "not a TorchScript archive";
  EXPECT_THROW(ScriptedLpips((dir / "junk.pt").string(), torch::kCPU), IoError);
  EXPECT_THROW(ScriptedInception((dir / "missing.pt").string(), torch::kCPU), IoError);
  // An LPIPS export that returns one value per pixel instead of one per pair fails when loaded.
  const auto per_pixel = save_module(dir / "per_pixel.pt", "def forward(self, x, y):\n  return x - y\n");
  EXPECT_THROW(ScriptedLpips(per_pixel, torch::kCPU), IoError);

  fs::create_directories(dir / "gt");
  io::write_image((dir / "gt" / "0.png").string(), torch::rand({3, 40, 40}));
  try {
    evaluate(pair_folders(dir / "pred", dir / "gt"), {}, nullptr);
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("is 48x40 but its ground truth"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace rave::analysis
