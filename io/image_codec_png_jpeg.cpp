// io::png_jpeg_codec: PNG through libpng and JPEG through libjpeg(-turbo), for builds without OpenCV's imgcodecs
// (RAVE_OPENCV_IMGCODECS=OFF), and the JPEG decoder of every build (image_codec_opencv.cpp says why). Every function
// makes the library calls that OpenCV 4.6's codecs make (modules/imgcodecs/src/grfmt_png.cpp, grfmt_jpeg.cpp,
// loadsave.cpp), so that with the same libpng and libjpeg the two codecs give the same pixels and write the same
// bytes (tests/unit/io/image_codec_test.cpp compares them), with one deliberate difference: a JPEG whose damaged
// data leaves pixels undecoded is rejected here, where OpenCV fills them with grey (loses_pixels).
//
// Both libraries report errors by longjmp. Each setjmp therefore sits in a function of its own that creates no C++
// object: what it fills in lives in its caller, and no exception is thrown through the libraries' frames.
// jpeglib.h uses size_t and FILE without including their headers, and jerror.h needs jpeglib.h's jconfig.h to
// declare JWRN_ARITH_BAD_CODE: hence three blocks, in this order.
#include <cstddef>
#include <cstdio>

#include <jpeglib.h>

#include <jerror.h>
#include <png.h>
#include <zlib.h>

#include <algorithm>
#include <csetjmp>
#include <cstring>
#include <new>

#include "io/exif_orientation.h"
#include "io/image_codec.h"

namespace rave::io::png_jpeg_codec {
namespace {

using Bytes = std::vector<std::uint8_t>;

// imdecode's limits (CV_IO_MAX_IMAGE_WIDTH, _HEIGHT and _PIXELS), checked before the pixels' memory is taken.
std::string size_error(std::uint64_t width, std::uint64_t height) {
  constexpr std::uint64_t kMaxSide = 1 << 20, kMaxPixels = 1 << 30;
  if (width > 0 && height > 0 && width <= kMaxSide && height <= kMaxSide && width * height <= kMaxPixels) return {};
  return "it declares " + std::to_string(width) + "x" + std::to_string(height) +
         " pixels; images of 1 to 2^20 pixels a side and at most 2^30 in all are read";
}

// ---- PNG ----

struct PngError {
  char message[256] = {};
};

void png_fail(png_structp png, png_const_charp message) {
  std::snprintf(static_cast<PngError*>(png_get_error_ptr(png))->message, sizeof(PngError::message), "%s", message);
  png_longjmp(png, 1);
}

struct PngRead {
  PngRead(const Bytes& bytes, cv::Mat& image) : bytes(bytes), image(image) {}
  const Bytes& bytes;
  cv::Mat& image;
  std::size_t at = 0;
  std::vector<png_bytep> rows;
  std::string size_error;
  int orientation = 1;
};

void png_read_bytes(png_structp png, png_bytep out, png_size_t size) {
  auto* read = static_cast<PngRead*>(png_get_io_ptr(png));
  if (read->at + size > read->bytes.size()) png_error(png, "PNG input buffer is incomplete");
  std::memcpy(out, read->bytes.data() + read->at, size);
  read->at += size;
}

// PngDecoder::readHeader and readData for a 3-channel image of the file's depth.
bool read_png(png_structp png, png_infop info, png_infop end, PngRead& read) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_read_fn(png, &read, png_read_bytes);
  png_read_info(png, info);
  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0;
  png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, nullptr, nullptr, nullptr);
  read.size_error = size_error(width, height);
  if (!read.size_error.empty()) return false;
  read.image.create(static_cast<int>(height), static_cast<int>(width), bit_depth == 16 ? CV_16UC3 : CV_8UC3);
  if (bit_depth == 16 && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) png_set_swap(png);
  png_set_strip_alpha(png);  // dropped without compositing
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if ((color_type & PNG_COLOR_MASK_COLOR) == 0 && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (color_type & PNG_COLOR_MASK_COLOR) {
    png_set_bgr(png);
  } else {
    png_set_gray_to_rgb(png);
  }
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  read.rows.resize(height);
  for (png_uint_32 y = 0; y < height; ++y) read.rows[y] = read.image.ptr(static_cast<int>(y));
  png_read_image(png, read.rows.data());
  png_read_end(png, end);
  // The eXIf chunk may come before or after the image data.
  png_uint_32 exif_size = 0;
  png_bytep exif = nullptr;
  if (png_get_valid(png, info, PNG_INFO_eXIf)) {
    png_get_eXIf_1(png, info, &exif_size, &exif);
  } else if (png_get_valid(png, end, PNG_INFO_eXIf)) {
    png_get_eXIf_1(png, end, &exif_size, &exif);
  }
  if (exif && exif_size > 0) read.orientation = exif_orientation(exif, exif_size);
  return true;
}

// The libpng structures of one decoding, freed however it ends (a failed allocation throws past them).
struct PngReader {
  PngError error;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &error, png_fail, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  png_infop end = png ? png_create_info_struct(png) : nullptr;
  ~PngReader() { png_destroy_read_struct(&png, &info, &end); }
};

DecodedImage decode_png(const Bytes& bytes, ExifOrientation orientation) {
  DecodedImage decoded;
  PngRead read{bytes, decoded.bgr};
  PngReader reader;
  if (!reader.info || !reader.end) throw std::bad_alloc();
  if (!read_png(reader.png, reader.info, reader.end, read)) {
    return {cv::Mat(), !read.size_error.empty() ? read.size_error : reader.error.message};
  }
  if (orientation == ExifOrientation::apply) apply_exif_orientation(decoded.bgr, read.orientation);
  return decoded;
}

struct PngWrite {
  Bytes bytes;
  std::vector<png_bytep> rows;
};

void png_write_bytes(png_structp png, png_bytep data, png_size_t size) {
  auto* write = static_cast<PngWrite*>(png_get_io_ptr(png));
  bool appended = true;
  try {
    write->bytes.insert(write->bytes.end(), data, data + size);
  } catch (const std::bad_alloc&) {
    appended = false;
  }
  if (!appended) png_error(png, "out of memory");  // longjmps: not from inside the handler
}

void png_flush(png_structp) {}

// PngEncoder::write with its default parameters: fast compression (SUB filter, level 1, run-length strategy).
bool write_png(png_structp png, png_infop info, const cv::Mat& image, PngWrite& write) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_write_fn(png, &write, png_write_bytes, png_flush);
  png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
  png_set_compression_level(png, Z_BEST_SPEED);
  png_set_compression_strategy(png, Z_RLE);
  png_set_IHDR(png, info, image.cols, image.rows, 8, image.channels() == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_set_bgr(png);
  png_write_image(png, write.rows.data());
  png_write_end(png, info);
  return true;
}

struct PngWriter {
  PngError error;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &error, png_fail, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  ~PngWriter() { png_destroy_write_struct(&png, &info); }
};

bool encodable(const cv::Mat& image) {
  return !image.empty() && image.depth() == CV_8U && (image.channels() == 1 || image.channels() == 3);
}

// ---- JPEG ----

struct JpegErrors {
  jpeg_error_mgr manager;  // first: libjpeg hands the functions below a pointer to it
  std::jmp_buf jump;
  bool pixels_lost = false;  // decoding ended on a warning that damaged data left pixels undecoded
};

void jpeg_fail(j_common_ptr jpeg) { std::longjmp(reinterpret_cast<JpegErrors*>(jpeg->err)->jump, 1); }

// libjpeg only warns about damaged entropy-coded data and goes on, filling what it could not decode with grey: a
// JPEG cut mid-scan and closed with an end-of-image marker (which find_truncation cannot tell from a whole one)
// "decodes", and the default handler prints "Corrupt JPEG data: premature end of data segment" on stderr, naming
// no file. The warnings below mean pixels are missing, so they end the decoding like an error and the file is
// reported by name (the loaders skip and count it). The others (an unknown JFIF revision, stray bytes before a
// marker, an odd progression) lose no pixels and pass silently.
bool loses_pixels(int code) {
  switch (code) {
    case JWRN_HIT_MARKER:      // premature end of data segment
    case JWRN_JPEG_EOF:        // premature end of the file
    case JWRN_HUFF_BAD_CODE:   // bad Huffman code
#ifdef D_ARITH_CODING_SUPPORTED
    case JWRN_ARITH_BAD_CODE:  // bad arithmetic code
#endif
    case JWRN_MUST_RESYNC:     // a marker where a restart marker belongs
      return true;
    default:
      return false;
  }
}

void jpeg_warning(j_common_ptr jpeg, int level) {
  if (level >= 0 || !loses_pixels(jpeg->err->msg_code)) return;  // level >= 0: trace messages
  auto* errors = reinterpret_cast<JpegErrors*>(jpeg->err);
  errors->pixels_lost = true;
  std::longjmp(errors->jump, 1);
}

std::string jpeg_message(j_common_ptr jpeg) {
  char message[JMSG_LENGTH_MAX] = {};
  (*jpeg->err->format_message)(jpeg, message);
  return message;
}

// OpenCV's memory source: running out of bytes suspends the decoder (jpeg_mem_src would invent an end marker).
void source_start(j_decompress_ptr) {}
boolean source_refill(j_decompress_ptr) { return FALSE; }
void source_skip(j_decompress_ptr jpeg, long count) {
  jpeg_source_mgr* source = jpeg->src;
  if (count <= 0) return;
  const std::size_t skipped = std::min(static_cast<std::size_t>(count), source->bytes_in_buffer);  // all there is
  source->next_input_byte += skipped;
  source->bytes_in_buffer -= skipped;
}
void source_end(j_decompress_ptr) {}

struct JpegRead {
  JpegRead(const Bytes& bytes, cv::Mat& image) : bytes(bytes), image(image) {}
  const Bytes& bytes;
  cv::Mat& image;
  jpeg_source_mgr source{};
  std::string size_error;
  int orientation = 1;
  bool rows_read = false;
};

// CMYK rows as OpenCV converts them (utils.cpp, icvCvt_CMYK2BGR_8u_C4C3R): Adobe's inverted CMYK.
void cmyk_to_bgr(const JSAMPLE* cmyk, std::uint8_t* bgr, int width) {
  for (int x = 0; x < width; ++x, cmyk += 4, bgr += 3) {
    const int k = cmyk[3];
    bgr[2] = static_cast<std::uint8_t>(k - ((255 - cmyk[0]) * k >> 8));
    bgr[1] = static_cast<std::uint8_t>(k - ((255 - cmyk[1]) * k >> 8));
    bgr[0] = static_cast<std::uint8_t>(k - ((255 - cmyk[2]) * k >> 8));
  }
}

// JpegDecoder::readHeader and readData for a 3-channel image.
bool read_jpeg(jpeg_decompress_struct& jpeg, JpegErrors& errors, JpegRead& read) {
  if (setjmp(errors.jump)) return false;
  jpeg_create_decompress(&jpeg);
  read.source = {read.bytes.data(), read.bytes.size(),      source_start, source_refill,
                 source_skip,       jpeg_resync_to_restart, source_end};
  jpeg.src = &read.source;
  jpeg_save_markers(&jpeg, JPEG_APP0 + 1, 0xffff);
  // Running out of bytes suspends the decoder (source_refill) instead of failing: check every return value.
  if (jpeg_read_header(&jpeg, TRUE) != JPEG_HEADER_OK) ERREXIT(&jpeg, JERR_INPUT_EOF);
  jpeg_calc_output_dimensions(&jpeg);
  read.size_error = size_error(jpeg.output_width, jpeg.output_height);
  if (!read.size_error.empty()) return false;
  const int width = static_cast<int>(jpeg.output_width), height = static_cast<int>(jpeg.output_height);
  read.image.create(height, width, CV_8UC3);
  const bool cmyk = jpeg.num_components == 4;
  jpeg.out_color_space = cmyk ? JCS_CMYK : JCS_EXT_BGR;  // grey is replicated to 3 channels
  jpeg.out_color_components = cmyk ? 4 : 3;
  // The first APP1 segment, past its "Exif\0\0" (which OpenCV does not check either).
  for (jpeg_saved_marker_ptr marker = jpeg.marker_list; marker; marker = marker->next) {
    if (marker->marker != JPEG_APP0 + 1) continue;
    if (marker->data_length > 6) read.orientation = exif_orientation(marker->data + 6, marker->data_length - 6);
    break;
  }
  if (!jpeg_start_decompress(&jpeg)) ERREXIT(&jpeg, JERR_INPUT_EOF);
  JSAMPARRAY row = (*jpeg.mem->alloc_sarray)(reinterpret_cast<j_common_ptr>(&jpeg), JPOOL_IMAGE, width * 4, 1);
  for (int y = 0; y < height; ++y) {
    JSAMPROW out = read.image.ptr(y);
    if (jpeg_read_scanlines(&jpeg, cmyk ? row : &out, 1) != 1) ERREXIT(&jpeg, JERR_INPUT_EOF);
    if (cmyk) cmyk_to_bgr(row[0], read.image.ptr(y), width);
  }
  // OpenCV counts the image as decoded from here on, even when finishing fails (unless pixels were lost).
  read.rows_read = true;
  jpeg_finish_decompress(&jpeg);
  return true;
}

// The libjpeg state of one decoding, freed however it ends.
struct JpegDecompress {
  JpegErrors errors{};
  jpeg_decompress_struct jpeg{};
  JpegDecompress() {
    jpeg.err = jpeg_std_error(&errors.manager);
    errors.manager.error_exit = jpeg_fail;
    errors.manager.emit_message = jpeg_warning;
  }
  ~JpegDecompress() { jpeg_destroy_decompress(&jpeg); }
};

DecodedImage decode_jpeg(const Bytes& bytes, ExifOrientation orientation) {
  DecodedImage decoded;
  JpegRead read{bytes, decoded.bgr};
  JpegDecompress state;
  if (!read_jpeg(state.jpeg, state.errors, read) && (!read.rows_read || state.errors.pixels_lost)) {
    return {cv::Mat(),
            !read.size_error.empty() ? read.size_error : jpeg_message(reinterpret_cast<j_common_ptr>(&state.jpeg))};
  }
  if (orientation == ExifOrientation::apply) apply_exif_orientation(decoded.bgr, read.orientation);
  return decoded;
}

// Compressed bytes straight into a vector that doubles when full (jpeg_mem_dest loses track of its buffer when an
// error stops it midway).
struct JpegDestination {
  jpeg_destination_mgr manager;  // first: libjpeg hands the functions below a pointer to it
  Bytes bytes;
};

void destination_start(j_compress_ptr jpeg) {
  auto* destination = reinterpret_cast<JpegDestination*>(jpeg->dest);
  destination->bytes.resize(4096);
  destination->manager.next_output_byte = destination->bytes.data();
  destination->manager.free_in_buffer = destination->bytes.size();
}

boolean destination_grow(j_compress_ptr jpeg) {
  auto* destination = reinterpret_cast<JpegDestination*>(jpeg->dest);
  const std::size_t full = destination->bytes.size();
  bool grown = true;
  try {
    destination->bytes.resize(2 * full);
  } catch (const std::bad_alloc&) {
    grown = false;
  }
  if (!grown) ERREXIT1(jpeg, JERR_OUT_OF_MEMORY, 0);  // longjmps: not from inside the handler
  destination->manager.next_output_byte = destination->bytes.data() + full;
  destination->manager.free_in_buffer = full;
  return TRUE;
}

void destination_end(j_compress_ptr jpeg) {
  auto* destination = reinterpret_cast<JpegDestination*>(jpeg->dest);
  destination->bytes.resize(destination->bytes.size() - destination->manager.free_in_buffer);
}

struct JpegCompress {
  JpegErrors errors{};
  jpeg_compress_struct jpeg{};
  JpegCompress() {
    jpeg.err = jpeg_std_error(&errors.manager);
    errors.manager.error_exit = jpeg_fail;
  }
  ~JpegCompress() { jpeg_destroy_compress(&jpeg); }
};

// JpegEncoder::write with a quality and otherwise its defaults (baseline, 4:2:0, no restart markers).
bool write_jpeg(jpeg_compress_struct& jpeg, JpegErrors& errors, const cv::Mat& image, int quality,
                JpegDestination& destination) {
  if (setjmp(errors.jump)) return false;
  jpeg_create_compress(&jpeg);
  destination.manager = {nullptr, 0, destination_start, destination_grow, destination_end};
  jpeg.dest = &destination.manager;
  jpeg.image_width = static_cast<JDIMENSION>(image.cols);
  jpeg.image_height = static_cast<JDIMENSION>(image.rows);
  jpeg.input_components = image.channels();
  jpeg.in_color_space = image.channels() == 3 ? JCS_EXT_BGR : JCS_GRAYSCALE;
  jpeg_set_defaults(&jpeg);
  jpeg_set_quality(&jpeg, std::clamp(quality, 0, 100), TRUE);
  jpeg_start_compress(&jpeg, TRUE);
  for (int y = 0; y < image.rows; ++y) {
    JSAMPROW row = const_cast<JSAMPROW>(image.ptr(y));
    jpeg_write_scanlines(&jpeg, &row, 1);
  }
  jpeg_finish_compress(&jpeg);
  return true;
}

}  // namespace

bool reads(ImageFormat format) { return format == ImageFormat::png || format == ImageFormat::jpeg; }

const char* formats() { return "PNG and JPEG"; }

DecodedImage decode(const std::vector<std::uint8_t>& bytes, ImageFormat format, ExifOrientation orientation) {
  if (format == ImageFormat::png) return decode_png(bytes, orientation);
  if (format == ImageFormat::jpeg) return decode_jpeg(bytes, orientation);
  return {cv::Mat(), std::string("this build of rave reads ") + formats() + " only"};
}

std::vector<std::uint8_t> encode_png(const cv::Mat& image) {
  if (!encodable(image)) return {};
  PngWrite write;
  for (int y = 0; y < image.rows; ++y) write.rows.push_back(const_cast<png_bytep>(image.ptr(y)));
  PngWriter writer;
  if (!writer.info) throw std::bad_alloc();
  return write_png(writer.png, writer.info, image, write) ? std::move(write.bytes) : Bytes();
}

std::vector<std::uint8_t> encode_jpeg(const cv::Mat& image, int quality) {
  if (!encodable(image)) return {};
  JpegDestination destination;
  JpegCompress state;
  return write_jpeg(state.jpeg, state.errors, image, quality, destination) ? std::move(destination.bytes) : Bytes();
}

}  // namespace rave::io::png_jpeg_codec
