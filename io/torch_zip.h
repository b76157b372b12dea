// Reads the tensors of a PyTorch zip checkpoint (torch.save since PyTorch 1.6: <prefix>/data.pkl, the raw
// storages in <prefix>/data/<key>, <prefix>/version and, from newer writers, <prefix>/byteorder) without
// executing any pickle code (io/pickle.h). Storages saved from a GPU ("cuda:0") load into host memory.
#pragma once

#include <string>

#include "io/pickle.h"

namespace rave::io {

// The state dict of `path` in file order. IoError naming the file for anything that is not a zip
// checkpoint of a dict of tensors (legacy non-zip files, TorchScript archives, pickled objects).
NamedTensors read_torch_state_dict(const std::string& path);

// Removes the "module." prefix nn.DataParallel puts in front of every key, from the keys that have it.
// `source` names the file in the error raised when a key occurs both with and without the prefix.
NamedTensors strip_data_parallel_prefix(NamedTensors tensors, const std::string& source);

}  // namespace rave::io
