// libFuzzer target: the image reader (io/image) on arbitrary files, as training, enhance and eval read them: format
// sniffing, the container checks of image_format, and the decoder of this build (OpenCV's imgcodecs, libjpeg for
// JPEGs); PNGs and JPEGs go through the libpng/libjpeg codec of -DRAVE_OPENCV_IMGCODECS=OFF builds as well. The
// parity of the size chooses the EXIF mode (both decoders ignore bytes after the image). Anything but an IoError is
// a crash.
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "io/image.h"
#include "io/image_codec.h"
#include "io/image_format.h"
#include "tests/fuzz/input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const rave::io::ExifOrientation orientation =
      size % 2 ? rave::io::ExifOrientation::apply : rave::io::ExifOrientation::ignore;
  const rave::fuzz::InputFile input(data, size, ".img");
  try {
    rave::io::read_image_u8(input.path(), orientation);
  } catch (const rave::IoError&) {
  }
  const std::vector<std::uint8_t> bytes(data, data + size);
  const rave::io::ImageFormat format = rave::io::sniff_format(bytes);
  if (rave::io::png_jpeg_codec::reads(format)) rave::io::png_jpeg_codec::decode(bytes, format, orientation);
  return 0;
}
