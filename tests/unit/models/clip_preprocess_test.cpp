// The loss-side input path end to end: the fixture's 512x512 images through io's variant A preprocessing
// (bilinear 224 squash, CLIP normalisation) into the tiny encoders, against tiny_reference.h5.
#include <gtest/gtest.h>

#include "io/h5.h"
#include "io/image.h"
#include "io/resize.h"
#include "models/clip/loader.h"
#include "tests/support/test_support.h"

namespace rave::models {
namespace {

TEST(ClipPreprocess, VariantAIntoTheEncodersMatchesTheReference) {
  RAVE_REQUIRE_FIXTURES();
  const std::string dir = (test::fixtures_dir() / "clip").string();
  const io::h5::File ref = io::h5::File::open(dir + "/tiny_reference.h5");
  const torch::Tensor src = ref.read("inputs/src_u8");  // [4, 512, 512, 3]
  std::vector<torch::Tensor> images;
  for (int64_t i = 0; i < src.size(0); ++i) images.push_back(io::to_float_chw(src[i]));
  const torch::Tensor resized = io::squash_bilinear(torch::stack(images));
  const torch::Tensor preprocessed = io::clip_normalize(resized);
  const double resize_error = test::max_abs_error(resized, ref.read("inputs/resized"));
  const double normalize_error = test::max_abs_error(preprocessed, ref.read("inputs/preprocessed"));
  std::printf("  inputs/resized max abs error %.3g, inputs/preprocessed %.3g\n", resize_error, normalize_error);
  EXPECT_LE(resize_error, test::golden_tolerance(1e-6, 2e-5));
  EXPECT_LE(normalize_error, test::golden_tolerance(1e-5, 1e-4));

  torch::NoGradGuard no_grad;
  ClipModel vit = load_clip(dir + "/tiny_vit_state.h5");
  ClipModel rn = load_clip(dir + "/tiny_rn_state.h5");
  EXPECT_LE(test::max_abs_error(vit->encode_image(preprocessed), ref.read("vit/image_embedding")), 1e-4);
  const auto taps = rn->image_features(preprocessed);
  for (int k = 0; k < 5; ++k) {
    EXPECT_LE(test::max_abs_error(taps[k], ref.read("rn/features/" + std::to_string(k))), 1e-4) << k;
  }
}

}  // namespace
}  // namespace rave::models
