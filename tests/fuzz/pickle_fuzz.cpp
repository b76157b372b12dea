// libFuzzer target: the restricted unpickler (io/pickle) on arbitrary data.pkl bytes. Storages come from a stand-in
// loader (zeros; at most 2^16 elements, as if the zip held no larger entry), so the fuzzer reaches the tensor
// checks without a zip around the pickle. Any exception other than rave's IoError escapes and counts as a crash:
// a user must see a message naming the file, never an "internal error".
#include <torch/types.h>

#include <cstdint>
#include <string>

#include "core/error.h"
#include "io/pickle.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  const rave::io::StorageLoader load = [](const std::string& key, torch::ScalarType dtype, int64_t numel) {
    if (numel > (int64_t(1) << 16)) throw rave::IoError("fuzz: storage '" + key + "' larger than any entry");
    return torch::zeros({numel}, torch::TensorOptions().dtype(dtype));
  };
  try {
    rave::io::unpickle_state_dict(bytes, load, "fuzz/data.pkl");
  } catch (const rave::IoError&) {
  }
  return 0;
}
