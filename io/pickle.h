// A restricted unpickler for PyTorch state dicts. It interprets the pickle opcodes itself and never runs
// code: the only callables it knows are the handful torch.save emits for a dict of tensors
// (collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch.<Type>Storage), and the only object a
// pickle may produce is a dict mapping strings to tensors. Any other global (os.system, builtins.eval, ...),
// opcode or object is an IoError naming the source and the offending item.
#pragma once

#include <torch/types.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace rave::io {

// Returns the persistent storage named `key` (the zip entry data/<key>) as a flat tensor of `dtype` holding
// at least `numel` elements.
using StorageLoader = std::function<torch::Tensor(const std::string& key, torch::ScalarType dtype, int64_t numel)>;

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// The tensors of the pickled dict in `bytes`, in insertion order. `source` names the file in errors.
NamedTensors unpickle_state_dict(const std::string& bytes, const StorageLoader& load_storage,
                                 const std::string& source);

}  // namespace rave::io
