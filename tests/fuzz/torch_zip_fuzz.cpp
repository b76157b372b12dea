// libFuzzer target: what `rave import` does with a .pth file (io/torch_zip): the zip, its data.pkl through the
// restricted unpickler, the storages, and the DataParallel prefix. Anything but an IoError is a crash.
#include <cstdint>

#include "core/error.h"
#include "io/torch_zip.h"
#include "tests/fuzz/input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const rave::fuzz::InputFile input(data, size, ".pth");
  try {
    rave::io::strip_data_parallel_prefix(rave::io::read_torch_state_dict(input.path()), input.path());
  } catch (const rave::IoError&) {
  }
  return 0;
}
