// libFuzzer target: the zip reader (io/zip) on arbitrary files: the central directory, zip64 records and extra
// fields, then every entry read back (local headers, bounds, CRC-32). Anything but an IoError is a crash.
#include <cstdint>
#include <string>

#include "core/error.h"
#include "io/zip.h"
#include "tests/fuzz/input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const rave::fuzz::InputFile input(data, size, ".zip");
  try {
    rave::io::ZipArchive zip(input.path());
    for (const std::string& name : zip.names()) {
      try {
        zip.read(name);
      } catch (const rave::IoError&) {  // one bad entry: the others are still read
      }
    }
  } catch (const rave::IoError&) {
  }
  return 0;
}
