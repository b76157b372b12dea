#include "io/image_format.h"

#include <cstring>

namespace rave::io {
namespace {

using Bytes = std::vector<std::uint8_t>;

bool starts_with(const Bytes& b, const char* magic, std::size_t n) {
  return b.size() >= n && std::memcmp(b.data(), magic, n) == 0;
}

std::uint32_t be32(const Bytes& b, std::size_t i) {
  return std::uint32_t(b[i]) << 24 | std::uint32_t(b[i + 1]) << 16 | std::uint32_t(b[i + 2]) << 8 | b[i + 3];
}
std::uint32_t le32(const Bytes& b, std::size_t i) {
  return std::uint32_t(b[i + 3]) << 24 | std::uint32_t(b[i + 2]) << 16 | std::uint32_t(b[i + 1]) << 8 | b[i];
}
std::uint16_t le16(const Bytes& b, std::size_t i) { return std::uint16_t(b[i + 1] << 8 | b[i]); }

std::string png_truncation(const Bytes& b) {
  // Chunks: 4-byte length, 4-byte type, data, 4-byte CRC; the image is complete only once IEND is reached.
  std::size_t i = 8;
  while (true) {
    if (i + 8 > b.size()) return "truncated: it ends before the IEND chunk";
    const std::uint64_t length = be32(b, i);
    if (length > 0x7fffffffu) return "corrupt: bad chunk length at byte " + std::to_string(i);
    if (std::memcmp(&b[i + 4], "IEND", 4) == 0) return {};
    i += 12 + length;
  }
}

bool is_standalone_jpeg_marker(std::uint8_t m) { return m == 0x01 || (m >= 0xD0 && m <= 0xD7); }

std::string jpeg_truncation(const Bytes& b) {
  const std::string missing_eoi = "truncated: it ends before the end-of-image marker";
  std::size_t i = 2;  // after SOI
  while (true) {
    // Like libjpeg, skip stray bytes and fill bytes (0xFF runs) before the next marker.
    while (i < b.size() && b[i] != 0xFF) ++i;
    while (i < b.size() && b[i] == 0xFF) ++i;
    if (i >= b.size()) return missing_eoi;
    const std::uint8_t marker = b[i++];
    if (marker == 0xD9) return {};  // EOI
    if (is_standalone_jpeg_marker(marker)) continue;
    if (i + 2 > b.size()) return missing_eoi;
    const std::size_t length = std::size_t(b[i]) << 8 | b[i + 1];
    if (length < 2) return "corrupt: bad segment length at byte " + std::to_string(i);
    i += length;
    if (marker != 0xDA) continue;
    // After SOS comes entropy-coded data, in which 0xFF is followed by a 0x00 stuffing byte or a restart marker;
    // any other 0xFFxx is the next marker (EOI, or DHT/SOS of the next progressive scan).
    while (i + 1 < b.size() && !(b[i] == 0xFF && b[i + 1] != 0x00 && !is_standalone_jpeg_marker(b[i + 1]))) ++i;
  }
}

std::string declared_size_truncation(const Bytes& b, std::uint64_t declared, const char* what) {
  if (b.size() >= declared) return {};
  return "truncated: its " + std::string(what) + " header declares " + std::to_string(declared) +
         " bytes, the file has " + std::to_string(b.size());
}

std::string bmp_truncation(const Bytes& b) {
  if (b.size() < 18) return "truncated: it ends inside the header";
  const std::uint64_t pixels_at = le32(b, 10);
  const std::uint32_t header = le32(b, 14);
  if (header != 12 && header < 40) return "corrupt: bad header size " + std::to_string(header);
  if (b.size() < 14 + std::uint64_t(header)) return "truncated: it ends inside the header";
  std::uint64_t width, height, bits, compression = 0;
  if (header == 12) {  // OS/2 BITMAPCOREHEADER: 16-bit sizes
    width = le16(b, 18), height = le16(b, 20), bits = le16(b, 24);
  } else {
    width = le32(b, 18), bits = le16(b, 28), compression = le32(b, 30);
    const auto signed_height = static_cast<std::int32_t>(le32(b, 22));  // negative: rows stored top-down
    height = signed_height < 0 ? -std::int64_t(signed_height) : signed_height;
  }
  // Uncompressed rows are padded to 4 bytes; compressed (RLE) data declares its size in biSizeImage.
  const bool uncompressed = compression == 0 || compression == 3;
  const std::uint64_t data = uncompressed ? (width * bits + 31) / 32 * 4 * height : le32(b, 34);
  return declared_size_truncation(b, pixels_at + data, "BMP");
}

}  // namespace

const char* format_name(ImageFormat format) {
  switch (format) {
    case ImageFormat::png:
      return "PNG";
    case ImageFormat::jpeg:
      return "JPEG";
    case ImageFormat::bmp:
      return "BMP";
    case ImageFormat::tiff:
      return "TIFF";
    case ImageFormat::webp:
      return "WebP";
    case ImageFormat::unknown:
      break;
  }
  return "unknown";
}

ImageFormat sniff_format(const Bytes& b) {
  if (starts_with(b, "\x89PNG\r\n\x1a\n", 8)) return ImageFormat::png;
  if (starts_with(b, "\xFF\xD8\xFF", 3)) return ImageFormat::jpeg;
  if (starts_with(b, "BM", 2) && b.size() >= 14) return ImageFormat::bmp;
  if (starts_with(b, "II*\0", 4) || starts_with(b, "MM\0*", 4)) return ImageFormat::tiff;
  if (starts_with(b, "RIFF", 4) && b.size() >= 12 && std::memcmp(&b[8], "WEBP", 4) == 0) return ImageFormat::webp;
  return ImageFormat::unknown;
}

std::string find_truncation(const Bytes& b, ImageFormat format) {
  switch (format) {
    case ImageFormat::png:
      return png_truncation(b);
    case ImageFormat::jpeg:
      return jpeg_truncation(b);
    case ImageFormat::bmp:
      return bmp_truncation(b);
    case ImageFormat::webp:
      return declared_size_truncation(b, 8 + std::uint64_t(le32(b, 4)), "WebP (RIFF)");
    case ImageFormat::tiff:
    case ImageFormat::unknown:
      break;
  }
  return {};
}

}  // namespace rave::io
