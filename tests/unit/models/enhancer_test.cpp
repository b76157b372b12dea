// The enhancement network against ALGORITHMS §2: names, shapes and initialisation, the §2.7 test vector for
// both padding modes, and parity with the reference outputs of the published checkpoints on real photos.
#include "models/enhancer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>

#include "core/error.h"
#include "io/h5.h"
#include "io/image.h"
#include "io/torch_zip.h"
#include "tests/support/test_support.h"

namespace rave::models {
namespace {

// Tiled against whole-image light maps (values ~0.1-1): float32 rounding of differently ordered sums.
constexpr double kTilingTolerance = 1e-6;

Enhancer load_published(const std::string& checkpoint, const std::string& padding) {
  const auto path = (test::fixtures_dir() / "enhancer" / (checkpoint + ".pth")).string();
  Enhancer enhancer(EnhancerOptions().cond_padding(conv_padding_from_name(padding)));
  const auto tensors = io::strip_data_parallel_prefix(io::read_torch_state_dict(path), path);
  load_enhancer_state(enhancer, {tensors.begin(), tensors.end()}, path);
  enhancer->eval();
  return enhancer;
}

// §2.7: x[c,h,w] = 0.5 + 0.45 sin(0.37 w (c+1) + 0.23 h + c) cos(0.11 h (c+1) - 0.05 w), in float64.
torch::Tensor test_vector() {
  auto options = torch::TensorOptions().dtype(torch::kFloat64);
  const auto c = torch::arange(3, options).view({3, 1, 1});
  const auto h = torch::arange(64, options).view({1, 64, 1});
  const auto w = torch::arange(96, options).view({1, 1, 96});
  const auto x = 0.5 + 0.45 * torch::sin(0.37 * w * (c + 1) + 0.23 * h + c) * torch::cos(0.11 * h * (c + 1) - 0.05 * w);
  return x.to(torch::kFloat32).unsqueeze(0);
}

TEST(Enhancer, ParameterNamesShapesAndCount) {
  Enhancer enhancer;
  const auto state = enhancer_state(enhancer);
  EXPECT_EQ(state.size(), 30u);
  int64_t total = 0;
  for (const auto& [name, tensor] : state) total += tensor.numel();
  EXPECT_EQ(total, 278790);
  EXPECT_EQ(state.at("cond1.weight").sizes(), torch::IntArrayRef({32, 3, 3, 3}));
  EXPECT_EQ(state.at("cond_add1.bias").sizes(), torch::IntArrayRef({1}));
  EXPECT_EQ(state.at("ResidualBlock3.conv2.weight").sizes(), torch::IntArrayRef({64, 64, 3, 3}));
  EXPECT_EQ(state.at("PPM1.features.3.1.weight").sizes(), torch::IntArrayRef({8, 32, 1, 1}));
  EXPECT_EQ(state.at("PPM1.features.0.2.weight").sizes(), torch::IntArrayRef({1}));
  EXPECT_EQ(state.at("PPM1.fuse.0.weight").sizes(), torch::IntArrayRef({32, 64, 3, 3}));
  EXPECT_EQ(state.at("PPM1.fuse.1.weight").sizes(), torch::IntArrayRef({1}));
  EXPECT_FALSE(state.count("ResidualBlock1.conv1.bias"));
}

TEST(Enhancer, InitialisationFollowsTheReference) {
  torch::manual_seed(0);
  Enhancer enhancer;
  const auto state = enhancer_state(enhancer);
  const auto weights = torch::cat({state.at("condx.weight").flatten(),
                                   state.at("ResidualBlock3.conv1.weight").flatten(),
                                   state.at("PPM1.fuse.0.weight").flatten()});
  EXPECT_NEAR(weights.mean().item<double>(), 0.0, 1e-3);
  EXPECT_NEAR(weights.std().item<double>(), 0.02, 5e-4);
  EXPECT_NEAR(state.at("PPM1.features.2.1.weight").std().item<double>(), 0.02, 4e-3);
  // Biases keep U(+-1/sqrt(fan_in)): 1/sqrt(27) for cond1, 1/sqrt(576) for condy.
  EXPECT_LE(state.at("cond1.bias").abs().max().item<double>(), 0.19245);
  EXPECT_GT(state.at("cond1.bias").abs().max().item<double>(), 0.1);
  EXPECT_LE(state.at("condy.bias").abs().max().item<double>(), 0.041667);
  for (const char* prelu : {"PPM1.features.0.2.weight", "PPM1.fuse.1.weight"}) {
    EXPECT_EQ(state.at(prelu).item<float>(), 0.25f);
  }
}

// Re-initialisation (§4.2.4) must give exactly the network a fresh construction gives under the same generator
// state, biases included (the reference builds a new network; redrawing only the weights kept a dead cond_add1's
// bias), and must keep the parameter tensors themselves, which an optimiser and a gradient reducer hold.
TEST(Enhancer, ReinitialiseEqualsAFreshNetworkUnderTheSameGenerator) {
  for (const char* padding : {"zeros", "reflect"}) {
    const EnhancerOptions options = EnhancerOptions().cond_padding(conv_padding_from_name(padding));
    torch::manual_seed(11);
    Enhancer trained(options);
    {
      torch::NoGradGuard no_grad;
      for (auto& p : trained->parameters()) p.add_(1.0);  // a network far from any initialisation
    }
    std::vector<const void*> storage;
    for (const auto& p : trained->parameters()) storage.push_back(p.data_ptr());

    torch::manual_seed(5);
    reinitialise(trained);
    torch::manual_seed(5);
    const Enhancer fresh(options);

    const auto reinitialised = trained->named_parameters(), expected = fresh->named_parameters();
    ASSERT_EQ(reinitialised.size(), expected.size());
    for (const auto& item : expected) {
      EXPECT_TRUE(torch::equal(reinitialised[item.key()], item.value())) << padding << ": " << item.key();
    }
    const std::vector<torch::Tensor> parameters = trained->parameters();
    for (size_t i = 0; i < parameters.size(); ++i) EXPECT_EQ(parameters[i].data_ptr(), storage[i]) << "parameter " << i;
    EXPECT_EQ(conv_padding_name(trained->options().cond_padding()), padding);
  }
}

TEST(Enhancer, LightMapKeepsTheInputSizeAndGradientsFlow) {
  torch::manual_seed(1);
  Enhancer enhancer;
  const auto x = torch::rand({2, 3, 17, 30});
  const auto light = enhancer(x);
  EXPECT_EQ(light.sizes(), torch::IntArrayRef({2, 1, 17, 30}));
  EXPECT_GE(light.min().item<float>(), 0.0f);
  enhancer->enhance(x).mean().backward();
  for (const auto& p : enhancer->parameters()) {
    ASSERT_TRUE(p.grad().defined() && p.grad().isfinite().all().item<bool>());
  }
}

// Tiling changes no value beyond float rounding: every padding mode, tiles that do not divide the image (a last
// tile of one row or column), and a tile larger than the image. Bit-equality is not attainable: LibTorch picks a
// different convolution kernel (oneDNN or im2col + BLAS) by tensor size, and the kernels sum in different orders
// (they differ from each other by ~1e-8 on the same whole image too).
TEST(Enhancer, TiledForwardMatchesWholeImage) {
  torch::manual_seed(3);
  for (const char* padding : {"zeros", "reflect"}) {
    Enhancer enhancer(EnhancerOptions().cond_padding(conv_padding_from_name(padding)));
    torch::InferenceMode inference;
    const auto x = torch::rand({1, 3, 33, 50});
    const auto expected = enhancer(x);
    for (const int64_t tile : {7, 20, 64}) {
      EXPECT_LE((enhancer->forward_tiled(x, tile) - expected).abs().max().item<double>(), kTilingTolerance)
          << padding << ", tile " << tile;
    }
  }
}

TEST(Enhancer, PaddingNames) {
  EXPECT_EQ(conv_padding_name(conv_padding_from_name("reflect")), "reflect");
  EXPECT_EQ(conv_padding_name(conv_padding_from_name("zeros")), "zeros");
  EXPECT_THROW(conv_padding_from_name("circular"), UsageError);
}

TEST(Enhancer, LoadRejectsWrongStates) {
  Enhancer enhancer;
  auto state = enhancer_state(enhancer);
  state["extra.weight"] = torch::zeros({1});
  EXPECT_THROW(load_enhancer_state(enhancer, state, "x.pth"), IoError);
  state.erase("extra.weight");
  state["condx.bias"] = torch::zeros({65});
  try {
    load_enhancer_state(enhancer, state, "x.pth");
    FAIL() << "shape mismatch accepted";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("x.pth: enhancer tensor 'condx.bias' has shape [65]"), std::string::npos);
  }
  state.erase("condx.bias");
  EXPECT_THROW(load_enhancer_state(enhancer, state, "x.pth"), IoError);
}

// A diverged run's weights made rave enhance write black images without a word.
TEST(Enhancer, LoadRefusesNonFiniteWeights) {
  Enhancer enhancer;
  for (const float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    auto state = enhancer_state(enhancer);
    state["cond1.weight"] = state["cond1.weight"].clone();
    state["cond1.weight"].view(-1)[5] = bad;
    try {
      load_enhancer_state(enhancer, state, "run/c.h5");
      FAIL() << bad << " accepted";
    } catch (const IoError& e) {
      EXPECT_EQ(std::string(e.what()), "run/c.h5: enhancer tensor 'cond1.weight' holds 1 NaN or infinite values");
    }
  }
}

// The checkpoint records the training padding; loading builds the network with the padding asked for, which
// for enhancement is reflect whatever was recorded (the papers' protocol).
TEST(Enhancer, CheckpointRecordsTheTrainingPaddingAndLoadsWithTheOneAskedFor) {
  test::ScratchDir dir;
  torch::manual_seed(2);
  Enhancer trained(EnhancerOptions().cond_padding(torch::kZeros));
  io::Checkpoint checkpoint;
  checkpoint.method = "rave";
  store_enhancer(checkpoint, trained);
  EXPECT_EQ(checkpoint.enhancer_padding, "zeros");
  checkpoint.write((dir / "c.h5").string());
  const io::Checkpoint read = io::Checkpoint::read((dir / "c.h5").string());
  EXPECT_EQ(read.enhancer_padding, "zeros");
  EXPECT_EQ(std::string(kEvaluationPadding), "reflect");
  Enhancer evaluated = load_enhancer(read, kEvaluationPadding);
  EXPECT_EQ(conv_padding_name(evaluated->options().cond_padding()), "reflect");
  Enhancer as_trained = load_enhancer(read, "zeros");
  EXPECT_EQ(conv_padding_name(as_trained->options().cond_padding()), "zeros");
  const auto x = torch::rand({1, 3, 12, 10});
  EXPECT_TRUE(torch::equal(as_trained(x), trained(x)));
  EXPECT_FALSE(torch::equal(evaluated(x), trained(x)));  // the borders differ
  EXPECT_THROW(load_enhancer(read, "circular"), UsageError);
}

TEST(Enhancer, TestVectorInput) {
  const auto x = test_vector();
  EXPECT_NEAR(x.sum().item<double>(), 9229.510742, 2e-3);
  const auto at = [&](int h, int w) { return x.index({0, torch::indexing::Slice(), h, w}); };
  EXPECT_TRUE(torch::allclose(at(0, 0), torch::tensor({0.5f, 0.8786619f, 0.9091839f}), 0, 1e-6));
  EXPECT_TRUE(torch::allclose(at(10, 20), torch::tensor({0.3783187f, 0.3889043f, 0.2063649f}), 0, 1e-6));
}

struct VectorCase {
  const char* checkpoint;
  const char* padding;
  double mean, min, max, at_0_0, at_10_20, enhanced_mean;
};

void PrintTo(const VectorCase& c, std::ostream* out) { *out << c.checkpoint << "/" << c.padding; }

class TestVector : public testing::TestWithParam<VectorCase> {};

TEST_P(TestVector, MatchesAlgorithms27) {
  RAVE_REQUIRE_FIXTURES();
  const VectorCase& c = GetParam();
  Enhancer enhancer = load_published(c.checkpoint, c.padding);
  torch::InferenceMode inference;
  const auto x = test_vector();
  const auto light = enhancer(x);
  const auto map = light[0][0];
  constexpr double kTolerance = 2e-6;  // the table has 6 decimals
  EXPECT_NEAR(map.mean().item<double>(), c.mean, kTolerance);
  EXPECT_NEAR(map.min().item<double>(), c.min, kTolerance);
  EXPECT_NEAR(map.max().item<double>(), c.max, kTolerance);
  EXPECT_NEAR(map[0][0].item<double>(), c.at_0_0, kTolerance);
  EXPECT_NEAR(map[10][20].item<double>(), c.at_10_20, kTolerance);
  EXPECT_NEAR(apply_light_map(x, light).mean().item<double>(), c.enhanced_mean, kTolerance);
}

// The rows of the §2.7 table whose checkpoints are among the fixtures.
INSTANTIATE_TEST_SUITE_P(
    Published, TestVector,
    testing::Values(VectorCase{"rave_unpaired", "zeros", 0.872853, 0.325959, 0.938126, 0.362218, 0.897324, 0.572261},
                    VectorCase{"rave_unpaired", "reflect", 0.897620, 0.784266, 0.948582, 0.830996, 0.896242, 0.557032},
                    VectorCase{"rave_paired", "zeros", 0.776530, 0.107154, 0.862474, 0.107154, 0.808276, 0.628289},
                    VectorCase{"rave_paired", "reflect", 0.803938, 0.699289, 0.856707, 0.770101, 0.808679, 0.611843},
                    VectorCase{"enhancement_model", "reflect", 0.765284, 0.674981, 0.820875, 0.798836, 0.748564,
                               0.636389}),
    [](const testing::TestParamInfo<VectorCase>& info) {
      return std::string(info.param.checkpoint) + "_" + info.param.padding;
    });

struct ParityCase {
  const char* checkpoint;
  int64_t first_photo;  // of the two sq256 photos this case runs
};

void PrintTo(const ParityCase& c, std::ostream* out) { *out << c.checkpoint; }

class ReferenceOutputs : public testing::TestWithParam<ParityCase> {};

// reference_outputs.h5 holds each published checkpoint (reflect padding, as published inference runs it) on six
// photos resized to 256x256 and on one photo at its aspect ratio (342x512). To keep the suite quick every
// checkpoint runs two of the six square photos (the five cases together cover all six) and the 342x512 one.
TEST_P(ReferenceOutputs, MatchPyTorch) {
  RAVE_REQUIRE_FIXTURES();
  const std::string checkpoint = GetParam().checkpoint;
  Enhancer enhancer = load_published(checkpoint, "reflect");
  const auto reference = io::h5::File::open((test::fixtures_dir() / "enhancer/reference_outputs.h5").string());
  torch::InferenceMode inference;
  for (const std::string group : {"sq256", "long512"}) {
    const auto select = [&](const torch::Tensor& all) {
      return group == "sq256" ? all.narrow(0, GetParam().first_photo, 2) : all;
    };
    const auto x = select(reference.read(group + "/input"));
    const auto light = enhancer(x);
    // On photos a tiled 8-bit output pixel differs from the whole-image one by one level at most, and rarely.
    const auto tiled = enhancer->forward_tiled(x, 100);
    EXPECT_LE((tiled - light).abs().max().item<double>(), kTilingTolerance) << "tiled, " << group;
    const auto levels = (io::to_u8_hwc(apply_light_map(x[0], tiled[0])).to(torch::kInt32) -
                         io::to_u8_hwc(apply_light_map(x[0], light[0])).to(torch::kInt32)).abs();
    EXPECT_LE(levels.max().item<int>(), 1) << "tiled 8-bit output, " << group;
    std::cout << "[ tiling   ] " << group << "/" << checkpoint << ": " << levels.count_nonzero().item<int64_t>()
              << " of " << levels.numel() << " 8-bit values differ by one level\n";
    const auto expected = [&](const std::string& name) {
      return select(reference.read(group + "/" + checkpoint + "/" + name));
    };
    const double light_error = (light - expected("light_map")).abs().max().item<double>();
    const double enhanced_error = (apply_light_map(x, light) - expected("enhanced")).abs().max().item<double>();
    std::printf("[ parity   ] %s/%s: max |light map - reference| = %.3g, max |enhanced - reference| = %.3g\n",
                group.c_str(), checkpoint.c_str(), light_error, enhanced_error);
    EXPECT_LE(light_error, 1e-4) << group;
    EXPECT_LE(enhanced_error, 1e-4) << group;
  }
}

INSTANTIATE_TEST_SUITE_P(Published, ReferenceOutputs,
                         testing::Values(ParityCase{"rave_paired", 0}, ParityCase{"rave_unpaired", 1},
                                         ParityCase{"clip_lit_paired", 2}, ParityCase{"clip_lit_latent_paired", 3},
                                         ParityCase{"enhancement_model", 4}),
                         [](const testing::TestParamInfo<ParityCase>& info) { return info.param.checkpoint; });

}  // namespace
}  // namespace rave::models
