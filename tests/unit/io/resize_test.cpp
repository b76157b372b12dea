// Tests of io/resize. The PIL-compatible resizes are compared with numbers Pillow itself produced; variant A with
// the bilinear formula of ALGORITHMS §1.7 evaluated here by hand; and, when ../shared/fixtures is present, every
// resize with the reference's own preprocessed images of the fixture photos.
#include "io/resize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "io/h5.h"
#include "io/image.h"
#include "tests/support/test_support.h"

namespace rave::io {
namespace {

// The deterministic input of the Pillow runs below: uint8 [h,w,3], value (37x + 91y + 53c + 11·(xy mod 17)) mod 256.
// Its wrap-arounds are hard edges, so the negative kernel lobes overshoot and the clipping is exercised.
torch::Tensor pattern(std::int64_t h, std::int64_t w) {
  auto image = torch::empty({h, w, 3}, torch::kUInt8);
  auto a = image.accessor<std::uint8_t, 3>();
  for (std::int64_t y = 0; y < h; ++y)
    for (std::int64_t x = 0; x < w; ++x)
      for (std::int64_t c = 0; c < 3; ++c) a[y][x][c] = (x * 37 + y * 91 + c * 53 + (x * y) % 17 * 11) % 256;
  return image;
}

torch::Tensor u8_values(const std::vector<int>& values, std::vector<std::int64_t> shape) {
  return torch::tensor(values, torch::kInt).view(shape).to(torch::kUInt8);
}

// Reference values: Debian's Pillow 9.4.0 (python3-pil on /usr/bin/python3, the version of the fixtures), run once:
//   np.asarray(Image.fromarray(pattern(h, w)).resize((out_w, out_h), Image.LANCZOS or Image.BICUBIC))
// flattened in [out_h, out_w, 3] order. The cases cover shrinking, enlarging, one pass only, and mixed directions.
struct PilCase {
  const char* name;
  PilFilter filter;
  std::int64_t h, w, out_h, out_w;
  std::vector<int> expected;
};

const std::vector<PilCase>& pil_cases() {
  // clang-format off
  static const std::vector<PilCase> cases = {
    {"lanczos 13x17 -> 5x7", PilFilter::lanczos, 13, 17, 5, 7, {
      109, 129, 142, 134, 138, 141, 131, 129, 126, 87, 96, 140, 97, 162, 144, 180, 102, 71, 87, 112, 156, 118, 155,
      115, 132, 123, 111, 140, 113, 121, 129, 92, 144, 115, 107, 147, 146, 139, 133, 165, 138, 107, 139, 126, 150, 124,
      120, 136, 92, 119, 135, 150, 88, 142, 144, 110, 167, 126, 100, 119, 147, 121, 120, 142, 124, 142, 119, 102, 165,
      129, 108, 119, 95, 143, 145, 116, 98, 146, 129, 132, 115, 93, 127, 146, 149, 110, 153, 150, 115, 135, 154, 100,
      145, 145, 85, 99, 140, 169, 91, 121, 113, 141, 174, 99, 93}},
    {"lanczos 6x4 -> 11x9", PilFilter::lanczos, 6, 4, 11, 9, {
      0, 42, 87, 0, 47, 91, 11, 59, 102, 30, 73, 129, 42, 84, 164, 54, 105, 198, 73, 144, 224, 88, 177, 236, 96, 194,
      240, 15, 62, 134, 18, 73, 148, 32, 97, 170, 57, 132, 180, 84, 163, 158, 111, 169, 135, 136, 150, 145, 151, 127,
      167, 157, 112, 181, 66, 116, 184, 73, 128, 211, 90, 152, 248, 119, 198, 238, 150, 253, 145, 181, 245, 51, 210,
      157, 41, 227, 63, 78, 234, 7, 105, 148, 220, 126, 169, 202, 147, 201, 161, 178, 211, 137, 183, 173, 166, 131,
      134, 188, 79, 145, 148, 86, 177, 92, 120, 197, 59, 142, 169, 255, 31, 199, 213, 41, 242, 120, 64, 238, 35, 96,
      145, 34, 121, 51, 91, 146, 47, 134, 180, 90, 152, 204, 120, 161, 215, 89, 164, 26, 109, 137, 57, 141, 83, 108,
      157, 55, 143, 128, 99, 120, 101, 151, 86, 120, 141, 100, 155, 101, 134, 176, 80, 154, 6, 58, 115, 20, 73, 145,
      50, 103, 189, 92, 157, 186, 122, 217, 96, 151, 215, 9, 191, 136, 13, 220, 48, 62, 233, 1, 96, 19, 72, 228, 56,
      113, 203, 117, 189, 157, 155, 240, 90, 117, 203, 37, 69, 128, 37, 88, 97, 86, 132, 100, 140, 159, 106, 174, 115,
      166, 223, 141, 193, 174, 178, 227, 96, 174, 222, 37, 94, 145, 63, 20, 73, 137, 33, 82, 182, 84, 128, 194, 118,
      160, 198, 198, 234, 100, 172, 224, 93, 127, 174, 86, 78, 130, 109, 58, 133, 174, 82, 142, 214, 128, 110, 183,
      167, 70, 129, 189, 56, 94, 240, 255, 11, 179, 232, 38, 82, 127, 89, 8, 64, 170, 38, 134, 248, 135, 201, 250, 204,
      134, 167, 233, 25, 75, 246, 0, 18}},
    {"lanczos 9x20 -> 9x6", PilFilter::lanczos, 9, 20, 9, 6, {
      45, 109, 170, 162, 162, 141, 66, 87, 136, 157, 178, 85, 82, 82, 131, 135, 199, 110, 152, 160, 146, 121, 124, 134,
      118, 117, 117, 118, 117, 111, 166, 76, 106, 70, 70, 128, 153, 132, 107, 132, 114, 103, 70, 120, 187, 141, 155,
      146, 137, 139, 131, 105, 170, 119, 105, 122, 102, 145, 105, 138, 133, 103, 159, 101, 72, 132, 161, 151, 132, 151,
      83, 123, 105, 161, 132, 123, 167, 97, 144, 65, 96, 114, 159, 140, 173, 138, 96, 127, 93, 160, 131, 152, 140, 157,
      71, 135, 128, 94, 142, 181, 101, 164, 124, 103, 108, 146, 145, 72, 144, 122, 131, 77, 120, 122, 161, 112, 176,
      118, 105, 161, 158, 103, 135, 188, 121, 100, 137, 108, 172, 97, 154, 154, 111, 96, 115, 120, 104, 132, 130, 154,
      82, 163, 83, 136, 160, 82, 135, 108, 85, 138, 100, 123, 176, 134, 86, 139, 84, 97, 153, 120, 182, 154}},
    {"bicubic 13x17 -> 6x5", PilFilter::bicubic, 13, 17, 6, 5, {
      112, 135, 149, 134, 136, 135, 91, 108, 134, 143, 146, 101, 113, 92, 128, 126, 136, 111, 133, 118, 119, 114, 103,
      151, 123, 122, 136, 155, 143, 118, 123, 147, 134, 128, 114, 122, 146, 89, 136, 142, 118, 150, 154, 115, 112, 145,
      104, 148, 94, 123, 144, 121, 108, 151, 123, 99, 138, 119, 125, 124, 129, 131, 153, 142, 94, 136, 107, 134, 128,
      126, 125, 133, 114, 125, 133, 155, 106, 144, 147, 108, 143, 155, 94, 102, 124, 147, 115, 164, 92, 104}},
    {"bicubic 5x7 -> 12x10", PilFilter::bicubic, 5, 7, 12, 10, {
      0, 42, 95, 8, 61, 112, 36, 88, 147, 61, 114, 191, 84, 156, 218, 119, 191, 253, 162, 215, 255, 188, 255, 69, 215,
      136, 22, 234, 0, 59, 6, 58, 112, 24, 78, 133, 54, 109, 157, 82, 135, 166, 110, 146, 191, 128, 164, 229, 139, 192,
      241, 165, 237, 86, 196, 140, 52, 217, 21, 87, 40, 91, 162, 60, 123, 193, 97, 168, 186, 140, 196, 100, 181, 120,
      118, 152, 90, 165, 75, 132, 197, 103, 182, 133, 149, 154, 133, 180, 103, 163, 84, 137, 195, 109, 164, 237, 147,
      211, 206, 185, 243, 43, 237, 97, 59, 171, 31, 104, 24, 82, 140, 57, 120, 169, 103, 156, 205, 131, 177, 230, 133,
      192, 139, 167, 160, 179, 181, 152, 172, 141, 195, 74, 184, 108, 106, 156, 80, 110, 69, 123, 77, 112, 81, 127,
      102, 110, 180, 69, 160, 211, 176, 243, 50, 221, 136, 83, 204, 57, 119, 65, 112, 137, 91, 131, 191, 129, 170, 142,
      148, 196, 18, 204, 56, 60, 123, 47, 117, 13, 102, 155, 156, 223, 30, 203, 118, 67, 191, 43, 110, 58, 106, 130,
      88, 128, 188, 129, 169, 144, 152, 199, 26, 212, 68, 69, 144, 37, 107, 45, 65, 123, 67, 127, 72, 108, 101, 130,
      138, 108, 145, 121, 175, 55, 174, 99, 95, 156, 80, 117, 79, 133, 105, 139, 122, 156, 171, 78, 145, 173, 37, 110,
      12, 65, 123, 49, 105, 173, 104, 168, 157, 153, 211, 11, 220, 80, 42, 171, 31, 102, 40, 99, 151, 80, 162, 215,
      179, 117, 167, 255, 43, 90, 45, 97, 175, 92, 155, 152, 124, 194, 106, 95, 152, 53, 152, 90, 103, 155, 94, 120,
      96, 153, 101, 76, 158, 195, 145, 138, 141, 223, 118, 46, 95, 148, 217, 152, 206, 121, 152, 207, 51, 29, 82, 107,
      70, 106, 179, 135, 171, 142, 163, 217, 38, 87, 143, 160, 108, 151, 109, 166, 195, 7, 112, 165, 235, 173, 226,
      111, 162, 214, 30, 4, 56, 126, 40, 112, 207, 127, 199, 150, 188, 241, 15, 88, 139, 148, 93, 158, 98, 146,
      225, 0}},
    {"bicubic 8x30 -> 16x7", PilFilter::bicubic, 8, 30, 16, 7, {
      69, 127, 172, 124, 120, 128, 118, 152, 112, 96, 115, 123, 144, 150, 90, 101, 138, 137, 131, 122, 89, 88, 133,
      166, 124, 121, 128, 117, 141, 111, 110, 104, 118, 129, 139, 106, 112, 139, 138, 131, 122, 96, 128, 146, 152, 124,
      125, 127, 115, 119, 109, 140, 80, 108, 97, 115, 141, 136, 141, 140, 130, 121, 111, 151, 147, 133, 118, 123, 129,
      113, 119, 125, 150, 89, 110, 91, 110, 145, 137, 146, 145, 135, 128, 119, 152, 134, 110, 107, 115, 133, 111, 143,
      158, 139, 134, 125, 112, 126, 117, 115, 152, 152, 146, 141, 118, 142, 124, 101, 112, 109, 142, 110, 135, 165,
      139, 150, 132, 125, 125, 107, 123, 151, 142, 149, 136, 127, 122, 116, 104, 135, 106, 156, 111, 93, 146, 150, 136,
      133, 130, 108, 115, 160, 142, 115, 146, 114, 146, 109, 128, 111, 144, 111, 142, 113, 85, 133, 158, 133, 127, 132,
      96, 126, 157, 140, 104, 143, 110, 156, 104, 157, 121, 140, 125, 101, 117, 109, 127, 162, 140, 114, 131, 90, 139,
      114, 145, 109, 140, 126, 158, 113, 162, 131, 140, 115, 94, 131, 117, 134, 155, 134, 108, 137, 96, 133, 101, 147,
      110, 133, 129, 152, 134, 142, 140, 143, 82, 121, 156, 107, 155, 137, 116, 106, 150, 114, 107, 117, 148, 105, 123,
      119, 140, 140, 129, 137, 133, 79, 139, 163, 104, 166, 137, 105, 113, 152, 121, 102, 131, 135, 120, 117, 110, 140,
      132, 124, 123, 110, 106, 150, 152, 107, 168, 154, 103, 129, 145, 117, 119, 143, 108, 155, 115, 101, 152, 126,
      121, 133, 101, 123, 148, 137, 105, 157, 154, 113, 124, 151, 110, 133, 146, 114, 150, 125, 111, 153, 124, 120,
      163, 106, 131, 134, 119, 98, 137, 138, 134, 100, 170, 103, 142, 141, 151, 108, 146, 139, 145, 124, 120, 177, 108,
      134, 128, 110, 95, 127, 131, 144, 89, 179, 99, 147, 138, 168, 88, 155, 152, 141}},
  };
  // clang-format on
  return cases;
}

TEST(ResizePil, MatchesPillowBitForBit) {
  for (const PilCase& c : pil_cases()) {
    const auto out = resize_pil(pattern(c.h, c.w), c.out_h, c.out_w, c.filter);
    ASSERT_EQ(out.sizes(), torch::IntArrayRef({c.out_h, c.out_w, 3})) << c.name;
    EXPECT_EQ(test::max_level_difference(out, u8_values(c.expected, {c.out_h, c.out_w, 3})), 0) << c.name;
  }
}

TEST(ResizePil, SameSizeIsACopyAndConstantsStayConstant) {
  const auto image = pattern(7, 9);
  const auto same = resize_pil(image, 7, 9, PilFilter::lanczos);
  EXPECT_TRUE(same.equal(image));
  EXPECT_NE(same.data_ptr(), image.data_ptr());
  // The weights of every output pixel sum to one (up to the fixed-point rounding, which the half-up start absorbs).
  const auto grey = torch::full({10, 13, 3}, 128, torch::kUInt8);
  for (const auto filter : {PilFilter::lanczos, PilFilter::bicubic}) {
    EXPECT_TRUE(resize_pil(grey, 4, 29, filter).eq(128).all().item<bool>());
  }
}

TEST(ResizePil, RejectsFloatInput) {
  EXPECT_THROW(resize_pil(torch::zeros({4, 4, 3}), 2, 2, PilFilter::lanczos), c10::Error);
}

// CLIP's preprocess (torchvision Resize(224, BICUBIC) + CenterCrop(224) on a PIL image), computed with the same
// Pillow run: img.resize((new_w, new_h), Image.BICUBIC) with the shorter side 224 and the longer
// int(224·long/short), then crop((left, top, left + 224, top + 224)) with top = int(round((new_h - 224) / 2.0)).
// 61x83 is enlarged to 224x304 (left 40); 300x257 is shrunk to 261x224 (top round(18.5) = 18, half to even).
// Recorded: the per-channel sums of the 224x224x3 crop and the pixels at rows and columns kGrid.
const std::vector<std::int64_t> kGrid = {0, 31, 63, 95, 127, 159, 191, 223};

void expect_clip_crop(std::int64_t h, std::int64_t w, const std::vector<std::int64_t>& sums,
                      const std::vector<int>& grid) {
  const auto crop = clip_resize_center_crop(pattern(h, w));
  ASSERT_EQ(crop.sizes(), torch::IntArrayRef({224, 224, 3}));
  const auto channel_sums = crop.to(torch::kLong).sum(std::vector<std::int64_t>{0, 1});
  for (int c = 0; c < 3; ++c)
    EXPECT_EQ(channel_sums[c].item<std::int64_t>(), sums[c]) << h << "x" << w << " channel " << c;
  const auto index = torch::tensor(kGrid, torch::kLong);
  const auto sampled = crop.index_select(0, index).index_select(1, index);
  EXPECT_EQ(test::max_level_difference(sampled, u8_values(grid, {8, 8, 3})), 0) << h << "x" << w;
}

TEST(ClipResizeCenterCrop, EnlargesLikePillow) {
  expect_clip_crop(
      61, 83, {6490024, 6341360, 6454363},
      {140, 193, 81,  208, 255, 30,  33,  49,  115, 55,  124, 193, 143, 201, 195, 220, 0,   41,  62,  66,  126, 67,
       134, 205, 189, 114, 168, 73,  122, 178, 7,   56,  116, 164, 224, 136, 139, 142, 218, 240, 41,  94,  154, 138,
       188, 159, 87,  166, 146, 199, 121, 180, 231, 59,  83,  63,  120, 85,  148, 188, 148, 205, 211, 192, 16,  70,
       20,  78,  131, 96,  157, 213, 196, 108, 79,  28,  98,  151, 98,  52,  116, 116, 186, 168, 81,  146, 213, 188,
       112, 165, 172, 153, 98,  209, 108, 107, 150, 217, 129, 199, 21,  81,  111, 81,  124, 114, 139, 173, 154, 212,
       17,  218, 47,  97,  33,  85,  139, 105, 125, 213, 189, 115, 165, 19,  73,  123, 214, 45,  121, 62,  129, 198,
       80,  151, 208, 135, 183, 236, 187, 171, 21,  246, 131, 63,  134, 192, 217, 125, 87,  160, 33,  53,  109, 205,
       148, 119, 141, 200, 119, 147, 128, 182, 67,  71,  129, 129, 56,  147, 197, 126, 197, 23,  76,  126, 247, 50,
       127, 57,  144, 231, 87,  157, 240, 156, 209, 255, 213, 186, 5,   94,  9,   59});
}

TEST(ClipResizeCenterCrop, ShrinksLikePillowAndRoundsTheOffsetHalfToEven) {
  expect_clip_crop(
      300, 257, {6402505, 6393721, 6404538},
      {100, 161, 199, 80,  142, 110, 76,  133, 197, 120, 174, 61,  190, 101, 104, 184, 131, 150, 129, 141, 198, 132,
       186, 68,  160, 64,  120, 147, 144, 209, 179, 89,  152, 141, 190, 96,  154, 241, 73,  182, 140, 49,  126, 60,
       124, 67,  133, 175, 46,  90,  157, 205, 99,  120, 124, 47,  110, 50,  104, 117, 157, 200, 36,  207, 107, 49,
       176, 238, 73,  143, 112, 167, 88,  87,  147, 161, 216, 29,  94,  62,  116, 84,  148, 181, 178, 237, 11,  125,
       67,  109, 87,  143, 192, 140, 200, 51,  59,  112, 176, 44,  103, 69,  132, 57,  136, 137, 182, 45,  157, 227,
       61,  77,  129, 182, 58,  93,  162, 216, 85,  138, 93,  159, 193, 136, 146, 93,  96,  43,  128, 64,  132, 203,
       150, 203, 141, 222, 123, 47,  113, 57,  126, 154, 103, 160, 119, 169, 145, 144, 166, 87,  73,  96,  95,  187,
       203, 11,  100, 162, 225, 94,  53,  129, 167, 144, 151, 131, 109, 168, 142, 129, 187, 83,  143, 100, 45,  83,
       154, 95,  123, 139, 104, 92,  148, 87,  160, 188, 129, 191, 155, 142, 197, 55});
}

TEST(ClipResizeCenterCrop, CropOffsetsFollowPythonRound) {
  // Shorter side already 224: no resampling, so the crop alone is visible. round(0.5) = 0, round(1.5) = 2,
  // round(2.5) = 2.
  for (const auto& [extra, offset] :
       std::vector<std::pair<std::int64_t, std::int64_t>>{{1, 0}, {3, 2}, {5, 2}, {6, 3}}) {
    const auto wide = pattern(224, 224 + extra);
    EXPECT_TRUE(clip_resize_center_crop(wide).equal(wide.slice(1, offset, offset + 224))) << "width 224+" << extra;
    const auto tall = pattern(224 + extra, 224);
    EXPECT_TRUE(clip_resize_center_crop(tall).equal(tall.slice(0, offset, offset + 224))) << "height 224+" << extra;
  }
}

TEST(ClipPreprocess, DividesBy255ThenNormalises) {
  const auto image = pattern(224, 224);
  const auto x = clip_preprocess(image);
  ASSERT_EQ(x.sizes(), torch::IntArrayRef({3, 224, 224}));
  const double mean[3] = {0.48145466, 0.4578275, 0.40821073}, stdev[3] = {0.26862954, 0.26130258, 0.27577711};
  for (int c = 0; c < 3; ++c) {
    const double v = image[5][7][c].item<int>() / 255.0;
    EXPECT_NEAR(x[c][5][7].item<float>(), (v - mean[c]) / stdev[c], 1e-6);
  }
}

TEST(ClipNormalize, UsesClipMeanAndStd) {
  const auto mean = torch::tensor({0.48145466f, 0.4578275f, 0.40821073f}).view({1, 3, 1, 1});
  const auto stdev = torch::tensor({0.26862954f, 0.26130258f, 0.27577711f}).view({1, 3, 1, 1});
  EXPECT_LT(clip_normalize(mean.expand({2, 3, 4, 5})).abs().max().item<float>(), 1e-7);
  EXPECT_LT((clip_normalize((mean + stdev)[0].expand({3, 4, 5})) - 1).abs().max().item<float>(), 1e-6);
  EXPECT_THROW(clip_normalize(torch::zeros({2, 4, 5, 5})), c10::Error);
}

// ALGORITHMS §1.7 variant A, written out: s = (d + 0.5)·in/out - 0.5 clamped below at 0, neighbours floor(s) and
// min(floor(s) + 1, in - 1), linear weights; separable over rows and columns. Double precision.
torch::Tensor hand_bilinear(const torch::Tensor& x, std::int64_t out) {
  const std::int64_t b = x.size(0), c = x.size(1), in_h = x.size(2), in_w = x.size(3);
  const auto src = x.to(torch::kDouble).contiguous();
  const auto a = src.accessor<double, 4>();
  auto result = torch::empty({b, c, out, out}, torch::kDouble);
  auto r = result.accessor<double, 4>();
  struct Tap {
    std::int64_t i0, i1;
    double w1;
  };
  auto taps = [out](std::int64_t in) {
    std::vector<Tap> t(out);
    for (std::int64_t d = 0; d < out; ++d) {
      const double s = std::max(0.0, (d + 0.5) * static_cast<double>(in) / out - 0.5);
      const auto i0 = static_cast<std::int64_t>(std::floor(s));
      t[d] = {i0, std::min(i0 + 1, in - 1), s - i0};
    }
    return t;
  };
  const auto ty = taps(in_h), tx = taps(in_w);
  for (std::int64_t n = 0; n < b; ++n)
    for (std::int64_t k = 0; k < c; ++k)
      for (std::int64_t y = 0; y < out; ++y)
        for (std::int64_t x2 = 0; x2 < out; ++x2) {
          const auto& v = ty[y];
          const auto& h = tx[x2];
          const double top = a[n][k][v.i0][h.i0] * (1 - h.w1) + a[n][k][v.i0][h.i1] * h.w1;
          const double bottom = a[n][k][v.i1][h.i0] * (1 - h.w1) + a[n][k][v.i1][h.i1] * h.w1;
          r[n][k][y][x2] = top * (1 - v.w1) + bottom * v.w1;
        }
  return result;
}

TEST(SquashBilinear, MatchesTheFormulaOfTheSpecification) {
  torch::manual_seed(3);
  for (const auto& [h, w] : std::vector<std::pair<std::int64_t, std::int64_t>>{{512, 512}, {37, 300}, {224, 100}}) {
    const auto x = torch::rand({2, 3, h, w});
    const auto y = squash_bilinear(x);
    ASSERT_EQ(y.sizes(), torch::IntArrayRef({2, 3, 224, 224}));
    // LibTorch computes the source coordinate in float32: near s = 510 its spacing is 3e-5, which moves the
    // weights by that much. A wrong neighbour or centre convention would be off by ~0.1 on this noise input.
    EXPECT_LT((y.to(torch::kDouble) - hand_bilinear(x, 224)).abs().max().item<double>(), 1e-4) << h << "x" << w;
  }
}

TEST(SquashBilinear, AcceptsOneImageAndOtherSizes) {
  const auto x = torch::rand({3, 50, 40});
  EXPECT_TRUE(squash_bilinear(x, 16).equal(squash_bilinear(x.unsqueeze(0), 16)[0]));
  EXPECT_EQ(squash_bilinear(x, 16).sizes(), torch::IntArrayRef({3, 16, 16}));
}

TEST(SquashBilinear, GradientsFlowToTheInput) {
  const auto x = torch::rand({2, 3, 512, 512}).requires_grad_(true);
  squash_bilinear(x).sum().backward();
  ASSERT_TRUE(x.grad().defined());
  // The weights of each output sum to one, so the gradient of the sum spreads exactly B·3·224·224 over the input;
  // downscaling by 2.29 without antialias skips some input pixels, which get no gradient.
  EXPECT_NEAR(x.grad().sum().item<double>(), 2.0 * 3 * 224 * 224, 1.0);
  EXPECT_GT(x.grad().gt(0).sum().item<std::int64_t>(), 2 * 3 * 224 * 224);
  EXPECT_GT(x.grad().eq(0).sum().item<std::int64_t>(), 0);
}

// Parity with the reference's preprocessed fixture images (ALGORITHMS §1.7, §3.2; shared/fixtures/README.md).
std::filesystem::path data_dir() { return test::fixtures_dir().parent_path() / "data"; }

torch::Tensor read_photo(const std::string& folder, const std::string& name) {
  return read_image_u8((data_dir() / folder / name).string());
}

TEST(ResizeParity, LanczosTrainingSizeMatchesTheReferenceLoader) {
  RAVE_REQUIRE_FIXTURES();
  // inputs/src_u8: photo -> convert("RGB") -> PIL resize((512, 512), ANTIALIAS); the last row is a grey constant.
  const auto file = h5::File::open((test::fixtures_dir() / "clip/tiny_reference.h5").string());
  const auto names = file.read_strings("inputs/names");
  const auto expected = file.read("inputs/src_u8");
  for (std::size_t i = 0; i + 1 < names.size(); ++i) {
    const auto ours = resize_pil(read_photo("backlit", names[i]), 512, 512, PilFilter::lanczos);
    EXPECT_EQ(test::max_level_difference(ours, expected[i]), 0) << names[i];
  }
}

TEST(ResizeParity, LanczosSquare256AndLongSide512MatchTheReference) {
  RAVE_REQUIRE_FIXTURES();
  const auto file = h5::File::open((test::fixtures_dir() / "enhancer/reference_outputs.h5").string());
  for (const std::string group : {"sq256", "long512"}) {
    const auto names = file.read_strings(group + "/names");
    const auto expected = file.read(group + "/input_u8");
    for (std::size_t i = 0; i < names.size(); ++i) {
      const auto ours =
          resize_pil(read_photo("backlit", names[i]), expected.size(1), expected.size(2), PilFilter::lanczos);
      EXPECT_EQ(test::max_level_difference(ours, expected[i]), 0) << group << "/" << names[i];
    }
  }
}

TEST(ResizeParity, ClipPreprocessMatchesTheResidualPass) {
  RAVE_REQUIRE_FIXTURES();
  // residual/preprocessed_u8: CLIP's preprocess up to the crop; rows 0-5 backlit JPEGs, 6-11 well-lit PNGs.
  const auto file = h5::File::open((test::fixtures_dir() / "losses/loss_golden.h5").string());
  const auto expected = file.read("residual/preprocessed_u8");
  std::vector<std::pair<std::string, std::string>> photos;
  for (const auto& name : file.read_strings("residual/backlit_names")) photos.emplace_back("backlit", name);
  for (const auto& name : file.read_strings("residual/welllit_names")) photos.emplace_back("welllit", name);
  ASSERT_EQ(static_cast<std::int64_t>(photos.size()), expected.size(0));
  for (std::size_t i = 0; i < photos.size(); ++i) {
    const auto ours = clip_resize_center_crop(read_photo(photos[i].first, photos[i].second));
    EXPECT_EQ(test::max_level_difference(ours, expected[i]), 0) << photos[i].second;
  }
}

TEST(ResizeParity, SquashAndNormaliseMatchTheLossPath) {
  RAVE_REQUIRE_FIXTURES();
  // inputs/resized = torchvision Resize((224, 224)) of src_u8 / 255; inputs/preprocessed = Normalize of that.
  const auto file = h5::File::open((test::fixtures_dir() / "clip/tiny_reference.h5").string());
  const auto src = file.read("inputs/src_u8").permute({0, 3, 1, 2}).to(torch::kFloat).div(255);
  const auto resized = squash_bilinear(src);
  EXPECT_LT((resized - file.read("inputs/resized")).abs().max().item<float>(), test::golden_tolerance(1e-6, 2e-5));
  EXPECT_LT((clip_normalize(resized) - file.read("inputs/preprocessed")).abs().max().item<float>(),
            test::golden_tolerance(1e-5, 1e-4));
}

}  // namespace
}  // namespace rave::io
