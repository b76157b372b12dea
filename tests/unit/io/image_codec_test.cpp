// io::png_jpeg_codec (libpng and libjpeg, the codec of RAVE_OPENCV_IMGCODECS=OFF builds) against io::opencv_codec
// (OpenCV's imgcodecs): the same pixels for every PNG colour type, bit depth and interlacing and for the JPEG kinds
// OpenCV and libjpeg write, the same EXIF orientation for intact and damaged EXIF blocks, and the same encoded bytes.
// Built where both codecs can be: RAVE_OPENCV_IMGCODECS=ON with libpng and libjpeg found.
#include "io/image_codec.h"

#include <gtest/gtest.h>
#include <jpeglib.h>
#include <png.h>
#include <zlib.h>

#include <cstdio>  // before jpeglib.h, which uses FILE
#include <cstdlib>
#include <opencv2/imgcodecs.hpp>
#include <string>
#include <vector>

namespace rave::io {
namespace {

using Bytes = std::vector<std::uint8_t>;

// OpenCV's own decoding, as opencv_codec made it before it sent JPEGs to png_jpeg_codec (image_codec_opencv.cpp).
DecodedImage opencv_decode(const Bytes& bytes, ExifOrientation orientation) {
  const int flags = cv::IMREAD_COLOR | cv::IMREAD_ANYDEPTH |
                    (orientation == ExifOrientation::ignore ? int(cv::IMREAD_IGNORE_ORIENTATION) : 0);
  try {
    return {cv::imdecode(bytes, flags), {}};
  } catch (const cv::Exception& e) {
    return {cv::Mat(), e.what()};
  }
}

// png_jpeg_codec decodes `bytes` as OpenCV does in both orientation modes: both reject them, or give equal images.
void expect_same_decoding(const Bytes& bytes, const std::string& what) {
  const ImageFormat format = sniff_format(bytes);
  for (const ExifOrientation orientation : {ExifOrientation::ignore, ExifOrientation::apply}) {
    const DecodedImage expected = opencv_decode(bytes, orientation);
    const DecodedImage actual = png_jpeg_codec::decode(bytes, format, orientation);
    const std::string label = what + " (" + exif_orientation_name(orientation) + ")";
    ASSERT_EQ(actual.bgr.empty(), expected.bgr.empty()) << label << ": " << actual.error;
    if (expected.bgr.empty()) continue;
    ASSERT_EQ(actual.bgr.type(), expected.bgr.type()) << label;
    ASSERT_EQ(actual.bgr.size(), expected.bgr.size()) << label;
    EXPECT_EQ(cv::norm(actual.bgr, expected.bgr, cv::NORM_INF), 0) << label;
  }
}

// A pattern with every byte value, different in every row.
std::uint8_t pattern(std::size_t x, std::size_t y) { return static_cast<std::uint8_t>(x * 37 + y * 11 + x * y); }

cv::Mat pattern_mat(int rows, int cols, int type) {
  cv::Mat image(rows, cols, type);
  for (int y = 0; y < rows; ++y)
    for (std::size_t x = 0; x < image.cols * image.elemSize(); ++x) image.ptr(y)[x] = pattern(x, y);
  return image;
}

void append_png(png_structp png, png_bytep data, png_size_t size) {
  auto* out = static_cast<Bytes*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + size);
}
void no_flush(png_structp) {}

// A 13x7 PNG written with libpng itself: colour types, bit depths, palettes, tRNS and interlacing OpenCV cannot write.
Bytes libpng_file(int bit_depth, int color_type, bool interlaced, bool transparency) {
  const png_uint_32 width = 13, height = 7;
  Bytes out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  png_set_write_fn(png, &out, append_png, no_flush);
  png_set_IHDR(png, info, width, height, bit_depth, color_type, interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  std::vector<png_color> palette(std::size_t(1) << std::min(bit_depth, 8));
  std::vector<png_byte> alphas(palette.size());
  for (std::size_t i = 0; i < palette.size(); ++i) {
    palette[i] = {pattern(i, 1), pattern(i, 2), pattern(i, 3)};
    alphas[i] = pattern(i, 4);
  }
  png_color_16 transparent{};  // grey 1, or RGB (1, 2, 3): valid at every bit depth
  transparent.gray = transparent.red = 1;
  transparent.green = 2;
  transparent.blue = 3;
  if (color_type == PNG_COLOR_TYPE_PALETTE) {
    png_set_PLTE(png, info, palette.data(), static_cast<int>(palette.size()));
    if (transparency) png_set_tRNS(png, info, alphas.data(), static_cast<int>(alphas.size()), nullptr);
  } else if (transparency) {
    png_set_tRNS(png, info, nullptr, 0, &transparent);
  }
  png_write_info(png, info);
  std::vector<Bytes> rows(height, Bytes(png_get_rowbytes(png, info)));
  std::vector<png_bytep> row_pointers;
  for (std::size_t y = 0; y < height; ++y) {
    for (std::size_t x = 0; x < rows[y].size(); ++x) rows[y][x] = pattern(x, y);
    row_pointers.push_back(rows[y].data());
  }
  png_write_image(png, row_pointers.data());
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return out;
}

// An 8x8 CMYK or YCCK JPEG written with libjpeg itself (OpenCV writes neither); libjpeg adds the Adobe marker.
Bytes libjpeg_cmyk_file(J_COLOR_SPACE stored_as) {
  jpeg_compress_struct jpeg{};
  jpeg_error_mgr errors{};
  jpeg.err = jpeg_std_error(&errors);
  jpeg_create_compress(&jpeg);
  unsigned char* data = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&jpeg, &data, &size);
  jpeg.image_width = jpeg.image_height = 8;
  jpeg.input_components = 4;
  jpeg.in_color_space = JCS_CMYK;
  jpeg_set_defaults(&jpeg);
  jpeg_set_colorspace(&jpeg, stored_as);
  jpeg_start_compress(&jpeg, TRUE);
  Bytes row(32);
  for (JDIMENSION y = 0; y < 8; ++y) {
    for (std::size_t x = 0; x < row.size(); ++x) row[x] = pattern(x, y);
    JSAMPROW pointer = row.data();
    jpeg_write_scanlines(&jpeg, &pointer, 1);
  }
  jpeg_finish_compress(&jpeg);
  jpeg_destroy_compress(&jpeg);
  Bytes out(data, data + size);
  std::free(data);
  return out;
}

Bytes opencv_file(const cv::Mat& image, const std::string& ext, const std::vector<int>& params = {}) {
  Bytes bytes;
  EXPECT_TRUE(cv::imencode(ext, image, bytes, params)) << ext;
  return bytes;
}

TEST(ImageCodec, EveryPngKindDecodesAlike) {
  struct Kind {
    int color_type;
    std::vector<int> depths;
    bool transparency;  // a tRNS chunk is allowed
  };
  const std::vector<Kind> kinds = {{PNG_COLOR_TYPE_GRAY, {1, 2, 4, 8, 16}, true},
                                   {PNG_COLOR_TYPE_RGB, {8, 16}, true},
                                   {PNG_COLOR_TYPE_PALETTE, {1, 2, 4, 8}, true},
                                   {PNG_COLOR_TYPE_GRAY_ALPHA, {8, 16}, false},
                                   {PNG_COLOR_TYPE_RGB_ALPHA, {8, 16}, false}};
  for (const Kind& kind : kinds)
    for (const int depth : kind.depths)
      for (const bool interlaced : {false, true})
        for (const bool transparency : {false, kind.transparency}) {
          expect_same_decoding(libpng_file(depth, kind.color_type, interlaced, transparency),
                               "PNG colour type " + std::to_string(kind.color_type) + ", " + std::to_string(depth) +
                                   " bits, interlaced " + std::to_string(interlaced) + ", tRNS " +
                                   std::to_string(transparency));
        }
  for (const int type : {CV_8UC1, CV_8UC3, CV_8UC4, CV_16UC1, CV_16UC3, CV_16UC4}) {
    expect_same_decoding(opencv_file(pattern_mat(9, 14, type), ".png"), "OpenCV PNG of type " + std::to_string(type));
  }
}

TEST(ImageCodec, EveryJpegKindDecodesAlike) {
  const cv::Mat colour = pattern_mat(19, 23, CV_8UC3), grey = pattern_mat(19, 23, CV_8UC1);
  const std::vector<std::vector<int>> settings = {
      {cv::IMWRITE_JPEG_QUALITY, 10},     {cv::IMWRITE_JPEG_QUALITY, 100},
      {cv::IMWRITE_JPEG_PROGRESSIVE, 1},  {cv::IMWRITE_JPEG_OPTIMIZE, 1},
      {cv::IMWRITE_JPEG_RST_INTERVAL, 2}, {cv::IMWRITE_JPEG_LUMA_QUALITY, 90, cv::IMWRITE_JPEG_CHROMA_QUALITY, 40}};
  for (std::size_t i = 0; i < settings.size(); ++i) {
    expect_same_decoding(opencv_file(colour, ".jpg", settings[i]), "colour JPEG, settings " + std::to_string(i));
    expect_same_decoding(opencv_file(grey, ".jpg", settings[i]), "grey JPEG, settings " + std::to_string(i));
  }
  expect_same_decoding(libjpeg_cmyk_file(JCS_CMYK), "CMYK JPEG");
  expect_same_decoding(libjpeg_cmyk_file(JCS_YCCK), "YCCK JPEG");
}

TEST(ImageCodec, CorruptFilesAreRejectedAlike) {
  Bytes png = opencv_file(pattern_mat(6, 7, CV_8UC3), ".png");
  png[20] ^= 0xFF;  // IHDR's CRC no longer matches
  expect_same_decoding(png, "PNG with a bad IHDR CRC");
  expect_same_decoding(Bytes(png.begin(), png.begin() + 40), "PNG cut inside its data");
  Bytes jpeg = opencv_file(pattern_mat(6, 7, CV_8UC3), ".jpg");
  for (std::size_t i = 2; i + 9 < jpeg.size(); ++i) {
    if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0) {
      jpeg[i + 9] = 0;  // SOF0 with no components
      break;
    }
  }
  expect_same_decoding(jpeg, "JPEG without components");
  const DecodedImage rejected = png_jpeg_codec::decode(jpeg, ImageFormat::jpeg, ExifOrientation::apply);
  EXPECT_FALSE(rejected.error.empty());  // libjpeg's reason, for the IoError
}

// An EXIF block (TIFF header and IFD0) as cameras write it: Make (a string stored past IFD0), XResolution (a
// rational), then Orientation, so that damage to the values before the orientation decides whether it is read.
Bytes tiff_block(bool intel, std::uint16_t orientation) {
  Bytes block;
  auto put16 = [&](std::uint32_t v) {
    for (const int shift : intel ? std::vector<int>{0, 8} : std::vector<int>{8, 0}) block.push_back(v >> shift & 0xFF);
  };
  auto put32 = [&](std::uint32_t v) {
    for (const int shift : intel ? std::vector<int>{0, 8, 16, 24} : std::vector<int>{24, 16, 8, 0})
      block.push_back(v >> shift & 0xFF);
  };
  block = {std::uint8_t(intel ? 'I' : 'M'), std::uint8_t(intel ? 'I' : 'M')};
  put16(42);
  put32(8);  // IFD0
  put16(3);
  const std::uint32_t data_at = 8 + 2 + 3 * 12 + 4;
  put16(0x010F), put16(2), put32(6), put32(data_at);                // Make, ASCII, 6 bytes
  put16(0x011A), put16(5), put32(1), put32(data_at + 6);            // XResolution, RATIONAL
  put16(0x0112), put16(3), put32(1), put16(orientation), put16(0);  // Orientation, SHORT
  put32(0);                                                         // no next IFD
  for (const char c : std::string("Canon", 6)) block.push_back(static_cast<std::uint8_t>(c));
  put32(72), put32(1);
  return block;
}

// `jpeg` with an APP1 segment "Exif\0\0" + `tiff` after its SOI.
Bytes jpeg_with_exif(const Bytes& jpeg, const Bytes& tiff) {
  const std::size_t length = tiff.size() + 8;
  Bytes out(jpeg.begin(), jpeg.begin() + 2);  // SOI
  for (const int byte :
       std::initializer_list<int>{0xFF, 0xE1, int(length >> 8), int(length & 0xFF), 'E', 'x', 'i', 'f', 0, 0})
    out.push_back(byte);
  out.insert(out.end(), tiff.begin(), tiff.end());
  out.insert(out.end(), jpeg.begin() + 2, jpeg.end());
  return out;
}

// `png` with an eXIf chunk holding `tiff` after its IHDR.
Bytes png_with_exif(const Bytes& png, const Bytes& tiff) {
  Bytes out(png.begin(), png.begin() + 33);  // signature and IHDR
  for (const int shift : {24, 16, 8, 0}) out.push_back(static_cast<std::uint8_t>(tiff.size() >> shift));
  const std::size_t type_at = out.size();
  for (const char c : {'e', 'X', 'I', 'f'}) out.push_back(static_cast<std::uint8_t>(c));
  out.insert(out.end(), tiff.begin(), tiff.end());
  const auto crc = static_cast<std::uint32_t>(crc32(0, out.data() + type_at, static_cast<uInt>(out.size() - type_at)));
  for (const int shift : {24, 16, 8, 0}) out.push_back(static_cast<std::uint8_t>(crc >> shift));
  out.insert(out.end(), png.begin() + 33, png.end());
  return out;
}

TEST(ImageCodec, ExifOrientationIsReadAlikeFromIntactAndDamagedBlocks) {
  const cv::Mat image = pattern_mat(6, 10, CV_8UC3);
  const Bytes jpeg = opencv_file(image, ".jpg"), png = opencv_file(image, ".png");
  for (const bool intel : {true, false}) {
    for (std::uint16_t orientation = 0; orientation <= 9; ++orientation) {
      const Bytes tiff = tiff_block(intel, orientation);
      const std::string what = std::string(intel ? "II" : "MM") + " orientation " + std::to_string(orientation);
      expect_same_decoding(jpeg_with_exif(jpeg, tiff), "JPEG " + what);
      expect_same_decoding(png_with_exif(png, tiff), "PNG " + what);
    }
    const Bytes tiff = tiff_block(intel, 6);
    // Not alike by accident: both turn the intact block's image (6 rows, 10 columns) upright.
    const cv::Mat upright =
        png_jpeg_codec::decode(png_with_exif(png, tiff), ImageFormat::png, ExifOrientation::apply).bgr;
    EXPECT_EQ(upright.size(), cv::Size(6, 10));
    for (std::size_t size = 1; size < tiff.size(); ++size) {
      const Bytes cut(tiff.begin(), tiff.begin() + size);
      expect_same_decoding(jpeg_with_exif(jpeg, cut), "JPEG with EXIF cut to " + std::to_string(size));
      expect_same_decoding(png_with_exif(png, cut), "PNG with EXIF cut to " + std::to_string(size));
    }
    for (std::size_t at = 0; at < tiff.size(); ++at)
      for (const std::uint8_t value : {0x00, 0x7F, 0xFF}) {
        Bytes damaged = tiff;
        damaged[at] = value;
        const std::string what = "EXIF byte " + std::to_string(at) + " set to " + std::to_string(value);
        expect_same_decoding(jpeg_with_exif(jpeg, damaged), "JPEG " + what);
        expect_same_decoding(png_with_exif(png, damaged), "PNG " + what);
      }
  }
}

TEST(ImageCodec, EncodedBytesAreOpenCvs) {
  for (const int type : {CV_8UC1, CV_8UC3}) {
    const cv::Mat image = pattern_mat(21, 34, type);
    EXPECT_EQ(png_jpeg_codec::encode_png(image), opencv_codec::encode_png(image)) << type;
    for (const int quality : {-5, 0, 1, 50, 75, 95, 100, 150}) {
      EXPECT_EQ(png_jpeg_codec::encode_jpeg(image, quality), opencv_codec::encode_jpeg(image, quality))
          << type << " quality " << quality;
    }
  }
  // A view into a larger image: rows are not contiguous.
  const cv::Mat view = pattern_mat(30, 40, CV_8UC3)(cv::Rect(3, 5, 17, 11));
  EXPECT_EQ(png_jpeg_codec::encode_png(view), opencv_codec::encode_png(view));
  EXPECT_EQ(png_jpeg_codec::encode_jpeg(view, 90), opencv_codec::encode_jpeg(view, 90));
  EXPECT_TRUE(png_jpeg_codec::encode_png(cv::Mat()).empty());
  EXPECT_TRUE(png_jpeg_codec::encode_png(pattern_mat(4, 4, CV_16UC3)).empty());
}

TEST(ImageCodec, TheLibpngCodecReadsPngAndJpegOnly) {
  EXPECT_TRUE(png_jpeg_codec::reads(ImageFormat::png));
  EXPECT_TRUE(png_jpeg_codec::reads(ImageFormat::jpeg));
  for (const ImageFormat other : {ImageFormat::bmp, ImageFormat::tiff, ImageFormat::webp, ImageFormat::unknown}) {
    EXPECT_FALSE(png_jpeg_codec::reads(other)) << format_name(other);
    EXPECT_TRUE(png_jpeg_codec::decode(opencv_file(pattern_mat(4, 4, CV_8UC3), ".bmp"), other, ExifOrientation::apply)
                    .bgr.empty());
  }
  EXPECT_STREQ(png_jpeg_codec::formats(), "PNG and JPEG");
}

}  // namespace
}  // namespace rave::io
