// Recognising an image file from its first bytes and checking that it is complete. OpenCV's decoders accept a
// truncated JPEG with only a printed warning (the missing rows come back grey) and do not say why a file failed,
// so image.cpp calls these first to turn every such case into an IoError that names the problem.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rave::io {

enum class ImageFormat { unknown, png, jpeg, bmp, tiff, webp };

const char* format_name(ImageFormat format);

// From the magic bytes, never from the file name.
ImageFormat sniff_format(const std::vector<std::uint8_t>& bytes);

// Empty when the container structure is complete, else what is wrong, worded to follow "<format> file <path> is ":
// "truncated: ..." or "corrupt: ...". Walks the PNG chunks to IEND, the JPEG markers (and the entropy-coded scans
// between them) to EOI, and compares the sizes that BMP and WebP headers declare with the bytes present. TIFF has no
// end marker: libtiff reports missing strips itself.
std::string find_truncation(const std::vector<std::uint8_t>& bytes, ImageFormat format);

}  // namespace rave::io
