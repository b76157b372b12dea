// libFuzzer target: the checkpoint loader of `--resume` and `rave enhance` (io::Checkpoint::read) on arbitrary
// files: rave's header (length, SHA-256) before libhdf5 parses a byte, which refuses every mutation of the seeds;
// the refusal of a file without the header. The header is a checksum, not a signature: libFuzzer learns the digest
// the check compares with and writes it into the header, so mutated files reach libhdf5 and rave's dataset checks
// too (corpus/checkpoint/forged_seal_huge_allocation.h5). Anything but an IoError is a crash.
#include <cstdint>

#include "core/error.h"
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
