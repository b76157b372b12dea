// libFuzzer target: the checkpoint reader of `rave inspect` and `--resume` (io::Checkpoint::read) on arbitrary
// files: HDF5's parser, then rave's attribute, dataset and checksum checks. Anything but an IoError is a crash;
// a crash inside libhdf5 is HDF5's own, and why fuzz.checkpoint only replays its corpus (docs/building.md, Fuzzing).
#include <cstdint>

#include "dist/error.h"
#include "io/checkpoint.h"
#include "tests/fuzz/input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const rave::fuzz::InputFile input(data, size, ".h5");
  try {
    rave::io::Checkpoint::read(input.path());
  } catch (const rave::IoError&) {
  }
  return 0;
}
