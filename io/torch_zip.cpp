#include "io/torch_zip.h"

#include <cstring>
#include <set>

#include "core/error.h"
#include "io/zip.h"

namespace rave::io {
namespace {

// The one folder every entry of a torch.save archive lives in; its name is the file stem at save time.
std::string archive_prefix(const ZipArchive& zip) {
  std::string prefix;
  for (const std::string& name : zip.names()) {
    const size_t slash = name.find('/');
    if (slash != std::string::npos && name.compare(slash, std::string::npos, "/data.pkl") == 0) {
      if (!prefix.empty()) throw IoError(zip.path() + ": more than one data.pkl in the archive");
      prefix = name.substr(0, slash + 1);
    }
  }
  if (prefix.empty()) {
    throw IoError(zip.path() + ": no <name>/data.pkl in the archive",
                  "expected a file written by torch.save (PyTorch >= 1.6), not a TorchScript archive");
  }
  return prefix;
}

}  // namespace

NamedTensors read_torch_state_dict(const std::string& path) {
  ZipArchive zip(path);
  const std::string prefix = archive_prefix(zip);
  if (zip.contains(prefix + "byteorder") && zip.read(prefix + "byteorder") != "little") {
    throw IoError(path + ": storages are big-endian", "re-save the file on a little-endian machine");
  }
  const StorageLoader load = [&](const std::string& key, torch::ScalarType dtype, int64_t numel) {
    const std::string entry = prefix + "data/" + key;
    const std::string bytes = zip.read(entry);
    // Compared by division: the element count comes from the pickle, and a product could wrap around to the size.
    const uint64_t element = c10::elementSize(dtype);
    if (numel < 0 || bytes.size() % element != 0 || bytes.size() / element != uint64_t(numel)) {
      throw IoError(path + ": storage '" + entry + "' holds " + std::to_string(bytes.size()) + " bytes, expected " +
                        std::to_string(numel) + " elements of " + std::to_string(element) + " bytes",
                    "the file is corrupt or truncated");
    }
    torch::Tensor storage = torch::empty({numel}, torch::TensorOptions().dtype(dtype));
    if (!bytes.empty()) std::memcpy(storage.data_ptr(), bytes.data(), bytes.size());  // an empty one has no data
    return storage;
  };
  return unpickle_state_dict(zip.read(prefix + "data.pkl"), load, path + ":" + prefix + "data.pkl");
}

NamedTensors strip_data_parallel_prefix(NamedTensors tensors, const std::string& source) {
  static const std::string kPrefix = "module.";
  std::set<std::string> seen;
  for (auto& [name, tensor] : tensors) {
    if (name.compare(0, kPrefix.size(), kPrefix) == 0) name.erase(0, kPrefix.size());
    if (!seen.insert(name).second) {
      throw IoError(source + ": state dict holds '" + name + "' both with and without the 'module.' prefix");
    }
  }
  return tensors;
}

}  // namespace rave::io
