// JPEG files with an EXIF orientation tag, as phones write portrait photos (the pixels stored sideways).
#pragma once

#include <cstdint>
#include <vector>

namespace rave::test {

// `jpeg` with an APP1 Exif segment inserted after SOI: "Exif\0\0", a little-endian TIFF header and an IFD0 with
// one entry, Orientation (tag 0x0112, type SHORT, count 1) = `orientation` (1 upright, 3 rotated 180°,
// 6 rotate 90° clockwise to display, 8 rotate 90° counter-clockwise).
std::vector<std::uint8_t> with_exif_orientation(const std::vector<std::uint8_t>& jpeg, std::uint8_t orientation);

}  // namespace rave::test
