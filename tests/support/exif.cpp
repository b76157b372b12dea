#include "tests/support/exif.h"

namespace rave::test {

std::vector<std::uint8_t> with_exif_orientation(const std::vector<std::uint8_t>& jpeg, std::uint8_t orientation) {
  const std::vector<std::uint8_t> payload = {'E',  'x',  'i', 'f', 0, 0,                              // identifier
                                             'I',  'I',  42,  0,   8, 0, 0, 0,                        // IFD0 at 8
                                             1,    0,                                                 // one entry
                                             0x12, 0x01, 3,   0,   1, 0, 0, 0, orientation, 0, 0, 0,  // Orientation
                                             0,    0,    0,   0};                                     // no next IFD
  const std::size_t length = payload.size() + 2;
  std::vector<std::uint8_t> out(jpeg.begin(), jpeg.begin() + 2);  // SOI
  for (const std::uint8_t byte : {0xFF, 0xE1, int(length >> 8), int(length & 0xFF)}) out.push_back(byte);  // APP1
  out.insert(out.end(), payload.begin(), payload.end());
  out.insert(out.end(), jpeg.begin() + 2, jpeg.end());
  return out;
}

}  // namespace rave::test
