// PSNR / SSIM against values computed independently: identical images, closed-form constant offsets, pure
// colours through the reference's swapped grey formula, and scikit-image on fixed test images.
#include "analysis/metrics/metrics.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/error.h"

namespace rave::analysis {
namespace {

// The test pair run through scikit-image: a[i,j,c] = (3i^2 + 7j + 50c + ij) mod 256 and
// b = clip(a + ((5i + 3j + c) mod 91) - 45, 0, 255), 23 x 31 pixels, uint8.
std::pair<torch::Tensor, torch::Tensor> formula_pair_u8() {
  const auto i = torch::arange(23, torch::kInt64).view({23, 1, 1});
  const auto j = torch::arange(31, torch::kInt64).view({1, 31, 1});
  const auto c = torch::arange(3, torch::kInt64).view({1, 1, 3});
  const auto a = (3 * i * i + 7 * j + 50 * c + i * j).remainder(256);
  const auto b = (a + (5 * i + 3 * j + c).remainder(91) - 45).clamp(0, 255);
  return {a.to(torch::kUInt8), b.to(torch::kUInt8)};
}

// ga[i,j] = 20 + (11i + j^2 + 7) mod 211, gb = clip(ga + (ij mod 61) - 30, 0, 255), 23 x 31, uint8.
std::pair<torch::Tensor, torch::Tensor> formula_grey_pair() {
  const auto i = torch::arange(23, torch::kInt64).view({23, 1});
  const auto j = torch::arange(31, torch::kInt64).view({1, 31});
  const auto ga = 20 + (11 * i + j * j + 7).remainder(211);
  const auto gb = (ga + (i * j).remainder(61) - 30).clamp(0, 255);
  return {ga.to(torch::kUInt8), gb.to(torch::kUInt8)};
}

torch::Tensor chw01(const torch::Tensor& hwc_u8) { return hwc_u8.permute({2, 0, 1}).to(torch::kFloat32) / 255.0; }

TEST(Metrics, IdenticalImages) {
  const auto image = torch::rand({2, 3, 32, 40});
  // pyiqa's epsilon: 10 log10(1 / 1e-8) = 80 dB.
  EXPECT_TRUE(torch::allclose(psnr_y(image, image), torch::full({2}, 80.0, torch::kFloat64)));
  EXPECT_TRUE(torch::allclose(psnr_rgb(image, image), torch::full({2}, 80.0, torch::kFloat64)));
  EXPECT_TRUE(torch::allclose(ssim(image, image), torch::ones({2}, torch::kFloat64)));
  const auto grey = formula_grey_pair().first;
  EXPECT_DOUBLE_EQ(ssim_reference(grey, grey), 1.0);
  // OpenCV: 20 log10(255 / DBL_EPSILON).
  EXPECT_NEAR(psnr_reference(grey, grey), 20 * std::log10(255 / 2.220446049250313e-16), 1e-9);
}

TEST(Metrics, ConstantOffsetHasClosedFormPsnr) {
  const double offset = 0.05;
  const auto a = torch::rand({3, 20, 24}, torch::kFloat64) * 0.9;
  const auto b = a + offset;
  // Every channel moves by the offset, so Y moves by offset * (65.481 + 128.553 + 24.966) / 255 = offset * 219/255.
  const double dy = offset * 219.0 / 255.0;
  EXPECT_NEAR(psnr_y(a, b).item<double>(), 10 * std::log10(1 / (dy * dy + 1e-8)), 1e-9);
  EXPECT_NEAR(psnr_rgb(a, b).item<double>(), 10 * std::log10(1 / (offset * offset + 1e-8)), 1e-9);
  EXPECT_EQ(psnr_y(a, b).dim(), 0);  // one image in, one value out
  // Grey offset of 7 levels: MSE = 49, PSNR = 20 log10(255 / 7).
  const auto grey = formula_grey_pair().first.clamp(0, 240);
  EXPECT_NEAR(psnr_reference(grey + 7, grey), 20 * std::log10(255.0 / 7), 1e-9);
}

TEST(Metrics, AgreeWithScikitImage) {
  // Values from scikit-image 0.19.3 (Debian python3-skimage), computed once on the pairs above:
  //   structural_similarity(a/255, b/255, channel_axis=2, gaussian_weights=True, sigma=1.5,
  //                         use_sample_covariance=False, data_range=1.0)      -> 0.954116443651
  //   peak_signal_noise_ratio(a/255, b/255, data_range=1.0)                   -> 20.152976015779
  //   structural_similarity(ga, gb, data_range=ga.max() - ga.min())  (= 209)  -> 0.952263818125
  const auto [a, b] = formula_pair_u8();
  EXPECT_NEAR(ssim(chw01(a), chw01(b)).item<double>(), 0.954116443651, 1e-9);
  // pyiqa's 1e-8 added to the MSE (about 0.0097 here) lowers the value by 4.5e-6 dB against scikit-image.
  EXPECT_NEAR(psnr_rgb(chw01(a), chw01(b)).item<double>(), 20.152976015779, 1e-5);
  const auto [ga, gb] = formula_grey_pair();
  EXPECT_NEAR(ssim_reference(ga, gb), 0.952263818125, 1e-9);
}

TEST(Metrics, BatchedValuesEqualPerImageValues) {
  const auto a = torch::rand({3, 3, 24, 24}), b = torch::rand({3, 3, 24, 24});
  const auto batched = ssim(a, b);
  for (int k = 0; k < 3; ++k) EXPECT_NEAR(batched[k].item<double>(), ssim(a[k], b[k]).item<double>(), 1e-12);
  EXPECT_FALSE(psnr_y(a.requires_grad_(), b).requires_grad());
}

TEST(Metrics, ReferenceGreySwapsRedAndBlue) {
  // The script reads BGR and converts as if it were RGB: pure red ends up weighted by 0.114, pure blue by 0.299.
  const auto pixel = [](uint8_t r, uint8_t g, uint8_t b) {
    return reference_grey(torch::tensor({r, g, b}, torch::kUInt8).view({1, 1, 3})).item<int>();
  };
  EXPECT_EQ(pixel(255, 0, 0), 29);   // 0.114 * 255 = 29.07
  EXPECT_EQ(pixel(0, 255, 0), 150);  // 0.587 * 255 = 149.7
  EXPECT_EQ(pixel(0, 0, 255), 76);   // 0.299 * 255 = 76.2
}

TEST(Metrics, RejectsMismatchedOrTinyImages) {
  EXPECT_THROW(psnr_y(torch::rand({3, 8, 8}), torch::rand({3, 8, 9})), UsageError);
  EXPECT_THROW(ssim(torch::rand({3, 8, 8}), torch::rand({3, 8, 8})), UsageError);  // smaller than 11x11
  EXPECT_THROW(psnr_reference(torch::zeros({4, 4}, torch::kUInt8), torch::zeros({4, 5}, torch::kUInt8)), UsageError);
}

}  // namespace
}  // namespace rave::analysis
