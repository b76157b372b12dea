// Tests of io/image: every odd kind of file the issue lists decodes to RGB (the tests write their own small files
// with OpenCV, or carry bytes Pillow wrote), the encoder's rounding, and an IoError naming the file for every bad one.
#include "io/image.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "tests/support/exif.h"
#include "tests/support/test_support.h"

namespace rave::io {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes encode(const cv::Mat& image, const std::string& ext, const std::vector<int>& params = {}) {
  Bytes bytes;
  EXPECT_TRUE(cv::imencode(ext, image, bytes, params)) << ext;
  return bytes;
}

std::string save(const test::ScratchDir& dir, const std::string& name, const Bytes& bytes) {
  const std::string path = (dir / name).string();
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return path;
}

Bytes literal_bytes(const char* data, std::size_t size) { return Bytes(data, data + size); }

// A BGR test image with distinct values in every pixel and channel.
cv::Mat colour_bgr(int h = 12, int w = 17) {
  cv::Mat image(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) image.at<cv::Vec3b>(y, x) = cv::Vec3b(x * 15, y * 20, (x * 7 + y * 11) % 256);
  return image;
}

// What read_image_u8 should return for a BGR Mat: the same pixels, RGB order.
torch::Tensor rgb_of(const cv::Mat& bgr) {
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return torch::from_blob(rgb.data, {rgb.rows, rgb.cols, 3}, torch::kUInt8).clone();
}

// The IoError of reading `path`, or a failure when there is none.
std::string read_error(const std::string& path) {
  try {
    read_image(path);
  } catch (const IoError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no IoError for " << path;
  return {};
}

void expect_error_naming(const std::string& path, const std::string& problem) {
  const std::string message = read_error(path);
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find(problem), std::string::npos) << message;
  EXPECT_THROW(read_image_u8(path), IoError);
}

TEST(ReadImage, Png8BitIsExactInBothLayouts) {
  test::ScratchDir dir;
  const cv::Mat bgr = colour_bgr();
  const std::string path = save(dir, "a.png", encode(bgr, ".png"));
  const auto u8 = read_image_u8(path);
  EXPECT_TRUE(u8.equal(rgb_of(bgr)));
  const auto x = read_image(path);
  ASSERT_EQ(x.sizes(), torch::IntArrayRef({3, 12, 17}));
  EXPECT_EQ(x.scalar_type(), torch::kFloat);
  EXPECT_TRUE(x.equal(rgb_of(bgr).permute({2, 0, 1}).to(torch::kFloat).div(255)));
}

TEST(ReadImage, LosslessBmpTiffAndWebpAreExact) {
  test::ScratchDir dir;
  const cv::Mat bgr = colour_bgr();
  EXPECT_TRUE(read_image_u8(save(dir, "a.bmp", encode(bgr, ".bmp"))).equal(rgb_of(bgr)));
  EXPECT_TRUE(read_image_u8(save(dir, "a.tif", encode(bgr, ".tiff"))).equal(rgb_of(bgr)));
  // WebP quality above 100 selects lossless compression.
  EXPECT_TRUE(
      read_image_u8(save(dir, "a.webp", encode(bgr, ".webp", {cv::IMWRITE_WEBP_QUALITY, 101}))).equal(rgb_of(bgr)));
}

TEST(ReadImage, BaselineAndProgressiveJpegAreCloseToTheirSource) {
  test::ScratchDir dir;
  cv::Mat smooth(32, 48, CV_8UC3);
  for (int y = 0; y < 32; ++y)
    for (int x = 0; x < 48; ++x) smooth.at<cv::Vec3b>(y, x) = cv::Vec3b(4 * x, 6 * y, 100);
  for (const bool progressive : {false, true}) {
    const auto bytes =
        encode(smooth, ".jpg", {cv::IMWRITE_JPEG_QUALITY, 95, cv::IMWRITE_JPEG_PROGRESSIVE, progressive});
    const auto decoded = read_image_u8(save(dir, "a.jpg", bytes));
    const auto error = (decoded.to(torch::kFloat) - rgb_of(smooth).to(torch::kFloat)).abs();
    EXPECT_LT(error.mean().item<float>(), 2.0f) << "progressive " << progressive;
  }
}

TEST(ReadImage, GreyscaleBecomesThreeEqualChannels) {
  test::ScratchDir dir;
  cv::Mat grey(5, 6, CV_8UC1);
  for (int i = 0; i < 30; ++i) grey.data[i] = static_cast<std::uint8_t>(i * 8);
  for (const std::string ext : {".png", ".bmp", ".tiff", ".jpg"}) {
    const auto u8 = read_image_u8(save(dir, "g" + ext, encode(grey, ext, {cv::IMWRITE_JPEG_QUALITY, 100})));
    ASSERT_EQ(u8.sizes(), torch::IntArrayRef({5, 6, 3})) << ext;
    EXPECT_TRUE(u8.select(2, 0).equal(u8.select(2, 1)) && u8.select(2, 0).equal(u8.select(2, 2))) << ext;
    const auto source = torch::from_blob(grey.data, {5, 6}, torch::kUInt8);
    EXPECT_LE(test::max_level_difference(u8.select(2, 0), source), ext == ".jpg" ? 2 : 0) << ext;
  }
}

TEST(ReadImage, AlphaIsDroppedWithoutCompositing) {
  test::ScratchDir dir;
  const cv::Mat bgr = colour_bgr();
  cv::Mat bgra;
  cv::cvtColor(bgr, bgra, cv::COLOR_BGR2BGRA);
  for (int y = 0; y < bgra.rows; ++y)
    for (int x = 0; x < bgra.cols; ++x) bgra.at<cv::Vec4b>(y, x)[3] = static_cast<std::uint8_t>(1 + x * 15);
  // Alpha stays above 0: lossless WebP encoding may discard the colour of fully transparent pixels.
  EXPECT_TRUE(read_image_u8(save(dir, "a.png", encode(bgra, ".png"))).equal(rgb_of(bgr)));
  EXPECT_TRUE(
      read_image_u8(save(dir, "a.webp", encode(bgra, ".webp", {cv::IMWRITE_WEBP_QUALITY, 101}))).equal(rgb_of(bgr)));
}

TEST(ReadImage, SixteenBitSamplesAreScaledBy65535) {
  test::ScratchDir dir;
  const std::vector<std::uint16_t> levels = {0, 1, 128, 129, 385, 1000, 32768, 40000, 65279, 65534, 65535, 12345};
  cv::Mat bgr16(2, 2, CV_16UC3);
  std::copy(levels.begin(), levels.end(), reinterpret_cast<std::uint16_t*>(bgr16.data));
  // Expected values from the samples (BGR in memory, RGB out): float32 v / 65535 and the nearest 8-bit level.
  auto expected = torch::empty({3, 2, 2});
  auto expected_u8 = torch::empty({2, 2, 3}, torch::kUInt8);
  for (int p = 0; p < 4; ++p)
    for (int c = 0; c < 3; ++c) {
      const std::uint16_t v = levels[p * 3 + (2 - c)];
      expected[c][p / 2][p % 2] = static_cast<float>(v) / 65535.0f;
      expected_u8[p / 2][p % 2][c] = static_cast<int>(std::lround(v / 257.0));
    }
  for (const std::string ext : {".png", ".tiff"}) {
    const std::string path = save(dir, "deep" + ext, encode(bgr16, ext));
    EXPECT_TRUE(read_image(path).equal(expected)) << ext;
    EXPECT_TRUE(read_image_u8(path).equal(expected_u8)) << ext;
  }
  cv::Mat grey16(1, 3, CV_16UC1);
  grey16.at<std::uint16_t>(0, 0) = 0, grey16.at<std::uint16_t>(0, 1) = 30000, grey16.at<std::uint16_t>(0, 2) = 65535;
  const auto grey = read_image(save(dir, "grey16.png", encode(grey16, ".png")));
  EXPECT_FLOAT_EQ(grey[1][0][1].item<float>(), 30000.0f / 65535.0f);
  EXPECT_EQ(grey[2][0][2].item<float>(), 1.0f);
}

// Files Pillow 9.4.0 wrote (Debian python3-pil, run once), and Pillow's Image.open(...).convert("RGB") of them in
// [H,W,3] order. An 8x8 CMYK JPEG (quality 95, Adobe-inverted CMYK as Pillow writes it), a 4-bit palette PNG and
// an 8-bit grey+alpha PNG: kinds OpenCV cannot write.
const char kCmykJpeg[] =
    "\xff\xd8\xff\xee\x00\x0e\x41\x64\x6f\x62\x65\x00\x64\x00\x00\x00\x00\x00\xff\xdb\x00\x43\x00\x02\x01\x01\x01\x01"
    "\x01\x02\x01\x01\x01\x02\x02\x02\x02\x02\x04\x03\x02\x02\x02\x02\x05\x04\x04\x03\x04\x06\x05\x06\x06\x06\x05\x06"
    "\x06\x06\x07\x09\x08\x06\x07\x09\x07\x06\x06\x08\x0b\x08\x09\x0a\x0a\x0a\x0a\x0a\x06\x08\x0b\x0c\x0b\x0a\x0c\x09"
    "\x0a\x0a\x0a\xff\xc0\x00\x14\x08\x00\x08\x00\x08\x04\x43\x11\x00\x4d\x11\x00\x59\x11\x00\x4b\x11\x00\xff\xc4\x00"
    "\x1f\x00\x00\x01\x05\x01\x01\x01\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09"
    "\x0a\x0b\xff\xc4\x00\xb5\x10\x00\x02\x01\x03\x03\x02\x04\x03\x05\x05\x04\x04\x00\x00\x01\x7d\x01\x02\x03\x00\x04"
    "\x11\x05\x12\x21\x31\x41\x06\x13\x51\x61\x07\x22\x71\x14\x32\x81\x91\xa1\x08\x23\x42\xb1\xc1\x15\x52\xd1\xf0\x24"
    "\x33\x62\x72\x82\x09\x0a\x16\x17\x18\x19\x1a\x25\x26\x27\x28\x29\x2a\x34\x35\x36\x37\x38\x39\x3a\x43\x44\x45\x46"
    "\x47\x48\x49\x4a\x53\x54\x55\x56\x57\x58\x59\x5a\x63\x64\x65\x66\x67\x68\x69\x6a\x73\x74\x75\x76\x77\x78\x79\x7a"
    "\x83\x84\x85\x86\x87\x88\x89\x8a\x92\x93\x94\x95\x96\x97\x98\x99\x9a\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xb2\xb3"
    "\xb4\xb5\xb6\xb7\xb8\xb9\xba\xc2\xc3\xc4\xc5\xc6\xc7\xc8\xc9\xca\xd2\xd3\xd4\xd5\xd6\xd7\xd8\xd9\xda\xe1\xe2\xe3"
    "\xe4\xe5\xe6\xe7\xe8\xe9\xea\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9\xfa\xff\xda\x00\x0e\x04\x43\x00\x4d\x00\x59\x00"
    "\x4b\x00\x00\x3f\x00\xef\x3f\xe0\xe4\x7f\xf9\x8f\xff\x00\xdb\x5f\xeb\x5d\xe7\xfc\x44\x8f\xff\x00\x53\xef\xfe\x4c"
    "\xff\x00\xf5\xeb\xbc\xff\x00\x82\x92\x7f\xc1\x49\x3f\xe3\xff\x00\xfe\x27\xff\x00\xde\xff\x00\x96\xb5\xfa\xb9\x5f"
    "\xff\xd9";
const std::vector<int> kCmykAsRgb = {
    215, 215, 215, 188, 215, 202, 161, 215, 188, 134, 215, 175, 107, 215, 161, 80, 215, 148, 53, 215, 134, 26, 215, 121,
    215, 188, 202, 188, 188, 189, 161, 188, 175, 134, 188, 161, 107, 188, 148, 80, 188, 134, 53, 188, 121, 26, 188, 107,
    215, 161, 187, 188, 161, 175, 161, 161, 160, 134, 161, 148, 107, 161, 133, 80, 161, 121, 53, 161, 106, 26, 161, 94,
    215, 134, 175, 188, 134, 162, 161, 134, 148, 134, 134, 135, 107, 134, 121, 80, 134, 108, 53, 134, 94,  26, 134, 81,
    215, 107, 160, 188, 107, 148, 161, 107, 133, 134, 107, 121, 107, 107, 106, 80, 107, 94,  53, 107, 79,  26, 107, 67,
    215, 80,  148, 188, 80,  135, 161, 80,  121, 134, 80,  108, 107, 80,  94,  80, 80,  81,  53, 80,  67,  26, 80,  54,
    215, 53,  134, 188, 53,  121, 161, 53,  107, 134, 53,  94,  107, 53,  80,  80, 53,  67,  53, 53,  52,  26, 53,  40,
    215, 26,  121, 188, 26,  107, 161, 26,  94,  134, 26,  80,  107, 26,  67,  80, 26,  53,  53, 26,  39,  26, 26,  26};
const char kPalettePng[] =
    "\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x04\x00\x00\x00\x04\x04\x03\x00\x00"
    "\x00\x5b\xdf\x83\x4d\x00\x00\x00\x0f\x50\x4c\x54\x45\x00\x00\x00\xff\x00\x00\x00\xff\x00\x00\x00\xff\xc8\x64\x32"
    "\xd7\xa3\xae\x24\x00\x00\x00\x14\x49\x44\x41\x54\x78\x9c\x63\x60\x54\x66\x70\x10\x62\x30\x61\x64\x50\x76\x00\x00"
    "\x05\x81\x01\x0f\x93\x6c\x4c\x07\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";
const std::vector<int> kPaletteAsRgb = {0, 0,   0,   255, 0, 0,   0,   255, 0, 0,   0,   255, 200, 100, 50, 0,
                                        0, 0,   255, 0,   0, 0,   255, 0,   0, 0,   255, 200, 100, 50,  0,  0,
                                        0, 255, 0,   0,   0, 255, 0,   0,   0, 255, 200, 100, 50,  0,   0,  0};
const char kGreyAlphaPng[] =
    "\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x04\x00\x00\x00\x03\x08\x04\x00\x00"
    "\x00\x1e\xfd\x66\x4d\x00\x00\x00\x16\x49\x44\x41\x54\x78\x9c\x63\x64\x60\x17\x61\x10\x61\x10\x61\x60\x09\x60\x40"
    "\x63\x00\x00\x12\x45\x01\x65\xfa\x7d\xcd\x3c\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";
const std::vector<int> kGreyAlphaAsRgb = {0,   0,   0,   20,  20,  20,  40,  40,  40,  60,  60,  60,
                                          80,  80,  80,  100, 100, 100, 120, 120, 120, 140, 140, 140,
                                          160, 160, 160, 180, 180, 180, 200, 200, 200, 220, 220, 220};

torch::Tensor pillow_rgb(const std::vector<int>& values, std::int64_t h, std::int64_t w) {
  return torch::tensor(values, torch::kInt).view({h, w, 3}).to(torch::kUInt8);
}

TEST(ReadImage, CmykJpegBecomesRgbLikePillow) {
  test::ScratchDir dir;
  const auto u8 = read_image_u8(save(dir, "cmyk.jpg", literal_bytes(kCmykJpeg, sizeof(kCmykJpeg) - 1)));
  // Both decode the same CMYK samples with libjpeg; OpenCV converts with k·c/256 where Pillow uses k·c/255.
  EXPECT_LE(test::max_level_difference(u8, pillow_rgb(kCmykAsRgb, 8, 8)), 1);
}

TEST(ReadImage, PaletteAndGreyAlphaPngMatchPillow) {
  test::ScratchDir dir;
  EXPECT_TRUE(read_image_u8(save(dir, "p.png", literal_bytes(kPalettePng, sizeof(kPalettePng) - 1)))
                  .equal(pillow_rgb(kPaletteAsRgb, 4, 4)));
  EXPECT_TRUE(read_image_u8(save(dir, "la.png", literal_bytes(kGreyAlphaPng, sizeof(kGreyAlphaPng) - 1)))
                  .equal(pillow_rgb(kGreyAlphaAsRgb, 3, 4)));
}

// Mean colour of one quadrant of an RGB image, as the name of the nearest primary colour.
std::string quadrant_colour(const torch::Tensor& rgb, int row, int col) {
  const auto h = rgb.size(0) / 2, w = rgb.size(1) / 2;
  const auto mean = rgb.slice(0, row * h, (row + 1) * h)
                        .slice(1, col * w, (col + 1) * w)
                        .to(torch::kFloat)
                        .mean(std::vector<std::int64_t>{0, 1});
  const bool r = mean[0].item<float>() > 128, g = mean[1].item<float>() > 128, b = mean[2].item<float>() > 128;
  return r && g && b ? "white" : r ? "red" : g ? "green" : b ? "blue" : "black";
}

// Stored 16 rows x 32 columns: quadrants red | blue over green | white.
Bytes quadrants_jpeg() {
  cv::Mat bgr(16, 32, CV_8UC3);
  const cv::Vec3b red(0, 0, 255), blue(255, 0, 0), green(0, 255, 0), white(255, 255, 255);
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 32; ++x) bgr.at<cv::Vec3b>(y, x) = y < 8 ? (x < 16 ? red : blue) : (x < 16 ? green : white);
  return encode(bgr, ".jpg", {cv::IMWRITE_JPEG_QUALITY, 95});
}

TEST(ReadImage, ExifOrientationIsApplied) {
  test::ScratchDir dir;
  const Bytes jpeg = quadrants_jpeg();
  struct Case {
    std::uint8_t orientation;
    std::int64_t h, w;
    const char* quadrants[4];  // top-left, top-right, bottom-left, bottom-right as displayed
  };
  const Case cases[] = {{1, 16, 32, {"red", "blue", "green", "white"}},
                        {3, 16, 32, {"white", "green", "blue", "red"}},   // rotated 180°
                        {6, 32, 16, {"green", "red", "white", "blue"}},   // rotate 90° clockwise to display
                        {8, 32, 16, {"blue", "white", "red", "green"}}};  // rotate 90° counter-clockwise
  for (const Case& c : cases) {
    const std::string path = save(dir, "o.jpg", test::with_exif_orientation(jpeg, c.orientation));
    for (const auto& rgb : {read_image_u8(path, ExifOrientation::apply), read_image_u8(path)}) {  // the default
      ASSERT_EQ(rgb.sizes(), torch::IntArrayRef({c.h, c.w, 3})) << "orientation " << int(c.orientation);
      for (int q = 0; q < 4; ++q) {
        EXPECT_EQ(quadrant_colour(rgb, q / 2, q % 2), c.quadrants[q]) << "orientation " << int(c.orientation);
      }
    }
  }
}

// Ignored, every orientation gives the pixels as stored: what PIL's Image.open, and so the reference, reads.
TEST(ReadImage, ExifOrientationIsIgnoredWhenAsked) {
  test::ScratchDir dir;
  const Bytes jpeg = quadrants_jpeg();
  const torch::Tensor stored = read_image_u8(save(dir, "plain.jpg", jpeg));
  for (const std::uint8_t orientation : {1, 3, 6, 8}) {
    const std::string path = save(dir, "o.jpg", test::with_exif_orientation(jpeg, orientation));
    const torch::Tensor u8 = read_image_u8(path, ExifOrientation::ignore);
    ASSERT_EQ(u8.sizes(), torch::IntArrayRef({16, 32, 3})) << "orientation " << int(orientation);
    EXPECT_TRUE(u8.equal(stored)) << "orientation " << int(orientation);
    EXPECT_TRUE(read_image(path, ExifOrientation::ignore).equal(to_float_chw(stored)));
  }
}

TEST(ReadImage, ExifOrientationNames) {
  EXPECT_EQ(exif_orientation_from_name("ignore"), ExifOrientation::ignore);
  EXPECT_EQ(exif_orientation_from_name("apply"), ExifOrientation::apply);
  EXPECT_STREQ(exif_orientation_name(kTrainingExifOrientation), "ignore");
  EXPECT_STREQ(exif_orientation_name(kEnhanceExifOrientation), "apply");
  EXPECT_THROW(exif_orientation_from_name("auto"), UsageError);
}

TEST(ReadImage, MissingEmptyAndNonImageFilesNameTheFile) {
  test::ScratchDir dir;
  expect_error_naming((dir / "missing.png").string(), "no such file");
  expect_error_naming(save(dir, "empty.jpg", {}), "is empty");
  const std::string text = "not an image at all\n";
  expect_error_naming(save(dir, "notes.png", Bytes(text.begin(), text.end())), "is not a PNG, JPEG, BMP, TIFF or WebP");
}

Bytes first_part(const Bytes& bytes, double fraction) {
  return Bytes(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(bytes.size() * fraction));
}

TEST(ReadImage, TruncatedFilesAreDetected) {
  test::ScratchDir dir;
  const cv::Mat bgr = colour_bgr(40, 40);
  const auto progressive = encode(bgr, ".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1});
  expect_error_naming(save(dir, "a.jpg", first_part(encode(bgr, ".jpg"), 0.7)), "JPEG file");
  expect_error_naming(save(dir, "b.jpg", first_part(progressive, 0.7)), "truncated: it ends before the end-of-image");
  expect_error_naming(save(dir, "c.jpg", Bytes(progressive.begin(), progressive.end() - 2)), "truncated");
  const auto png = encode(bgr, ".png");
  expect_error_naming(save(dir, "a.png", first_part(png, 0.8)), "truncated: it ends before the IEND");
  expect_error_naming(save(dir, "b.png", Bytes(png.begin(), png.end() - 12)), "truncated");  // IEND missing
  expect_error_naming(save(dir, "a.bmp", first_part(encode(bgr, ".bmp"), 0.9)), "truncated: its BMP header declares");
  const auto webp = encode(bgr, ".webp", {cv::IMWRITE_WEBP_QUALITY, 101});
  expect_error_naming(save(dir, "a.webp", first_part(webp, 0.6)), "truncated");
  // TIFF has no end marker: libtiff notices the missing strip or directory and the decoder rejects the file.
  expect_error_naming(save(dir, "a.tif", first_part(encode(bgr, ".tiff"), 0.5)), "TIFF file");
}

// A JPEG cut inside its scan and closed with an end-of-image marker has a complete container; OpenCV's decoder (and
// libjpeg's default handler) fill the missing rows with grey after a warning on stderr that names no file.
TEST(ReadImage, JpegCutMidScanAndClosedIsCorrupt) {
  test::ScratchDir dir;
  const Bytes jpeg = encode(colour_bgr(64, 64), ".jpg", {cv::IMWRITE_JPEG_QUALITY, 95});
  std::size_t scan = 2;
  while (!(jpeg[scan] == 0xFF && jpeg[scan + 1] == 0xDA)) ++scan;  // SOS; its data ends at the EOI, 2 bytes short
  Bytes cut(jpeg.begin(), jpeg.begin() + std::ptrdiff_t(scan + (jpeg.size() - scan) / 2));
  cut.insert(cut.end(), {0xFF, 0xD9});
  ASSERT_FALSE(cv::imdecode(cut, cv::IMREAD_COLOR).empty());  // what rave trained on before
  // libjpeg's warning, now the error: "premature end of data segment" (or "bad Huffman code" for the last bits).
  expect_error_naming(save(dir, "cut.jpg", cut), "is corrupt: Corrupt JPEG data: ");
  EXPECT_NO_THROW(read_image(save(dir, "whole.jpg", jpeg)));
}

TEST(ReadImage, JpegEndMarkerInsideAMetadataSegmentDoesNotHideTruncation) {
  test::ScratchDir dir;
  const Bytes jpeg = encode(colour_bgr(40, 40), ".jpg");
  // An APP1 segment whose payload holds FF D9, as an embedded EXIF thumbnail does.
  Bytes with_thumbnail(jpeg.begin(), jpeg.begin() + 2);
  with_thumbnail.insert(with_thumbnail.end(), {0xFF, 0xE1, 0x00, 0x08, 'x', 'x', 0xFF, 0xD9, 'x', 'x'});
  with_thumbnail.insert(with_thumbnail.end(), jpeg.begin() + 2, jpeg.end());
  EXPECT_NO_THROW(read_image(save(dir, "whole.jpg", with_thumbnail)));
  expect_error_naming(save(dir, "cut.jpg", first_part(with_thumbnail, 0.8)), "truncated");
}

TEST(ReadImage, BytesAfterTheJpegEndMarkerAreAccepted) {
  test::ScratchDir dir;
  Bytes jpeg = encode(colour_bgr(), ".jpg");
  jpeg.insert(jpeg.end(), {0, 0, 'p', 'a', 'd'});
  EXPECT_EQ(read_image(save(dir, "padded.jpg", jpeg)).size(2), 17);
}

TEST(ReadImage, CorruptHeadersAreRejectedByTheDecoder) {
  test::ScratchDir dir;
  Bytes png = encode(colour_bgr(), ".png");
  png[20] ^= 0xFF;  // inside IHDR: its CRC no longer matches
  expect_error_naming(save(dir, "bad.png", png), "PNG file");
  Bytes jpeg = encode(colour_bgr(), ".jpg");
  // Find the SOF0 segment and claim 0 components: libjpeg refuses the frame header.
  for (std::size_t i = 2; i + 9 < jpeg.size(); ++i) {
    if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0) {
      jpeg[i + 9] = 0;
      break;
    }
  }
  expect_error_naming(save(dir, "bad.jpg", jpeg), "is corrupt");
}

TEST(ImageLayout, ConversionsAndRounding) {
  const auto hwc = torch::tensor({0, 1, 128, 254, 255, 7}, torch::kInt).to(torch::kUInt8).view({1, 2, 3});
  const auto chw = to_float_chw(hwc);
  ASSERT_EQ(chw.sizes(), torch::IntArrayRef({3, 1, 2}));
  EXPECT_TRUE(to_u8_hwc(chw).equal(hwc));  // every level survives the round trip
  // floor(v·255 + 0.5), clamped; NaN -> 0.
  const auto v = torch::tensor({0.5f / 255, 0.49f / 255, 1.5f / 255, 254.5f / 255, -0.2f, 1.3f, NAN, 0.0f, 1.0f});
  const auto rounded = to_u8_hwc(v.view({1, 1, 9})).view({9}).to(torch::kInt);
  EXPECT_TRUE(rounded.equal(torch::tensor({1, 0, 2, 255, 0, 255, 0, 0, 255}, torch::kInt))) << rounded;
}

TEST(WriteImage, PngIsLosslessJpegIsClose) {
  test::ScratchDir dir;
  const auto x = torch::rand({3, 9, 14});
  const std::string png = (dir / "out.PNG").string();
  write_image(png, x);
  EXPECT_TRUE(read_image_u8(png).equal(to_u8_hwc(x)));
  const auto smooth = torch::linspace(0, 1, 64).view({1, 1, 64}).expand({3, 16, 64}).contiguous();
  const std::string jpg = (dir / "out.jpeg").string();
  write_image(jpg, smooth, 95);
  EXPECT_LT((read_image(jpg) - smooth).abs().mean().item<float>(), 2.0f / 255);
}

TEST(WriteImage, GreyLightMapIsWrittenAsGrey) {
  test::ScratchDir dir;
  const auto light = torch::rand({1, 5, 6});
  const std::string path = (dir / "light.png").string();
  write_image(path, light);
  const auto u8 = read_image_u8(path);
  for (int c = 0; c < 3; ++c) EXPECT_TRUE(u8.select(2, c).equal(to_u8_hwc(light).select(2, 0)));
}

TEST(WriteImage, BadExtensionShapeOrFolderIsAnIoError) {
  test::ScratchDir dir;
  const auto x = torch::rand({3, 4, 4});
  EXPECT_THROW(write_image((dir / "out.gif").string(), x), IoError);
  EXPECT_THROW(write_image((dir / "out.png").string(), torch::rand({2, 4, 4})), IoError);
  try {
    write_image((dir / "no/such/dir/out.png").string(), x);
    FAIL() << "no error";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("no/such/dir/out.png"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace rave::io
