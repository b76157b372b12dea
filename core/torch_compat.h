// The LibTorch API differences between Debian's 1.13 (the CPU default) and LibTorch 2.x (the pip wheel, the
// official zip, cluster modules; what GPU users have), in one place. Everything else in rave is written against
// the API the two share; a difference found later belongs here, selected by the version in <torch/version.h>.
#pragma once

#include <c10/core/Allocator.h>
#include <c10/core/DeviceType.h>
#include <c10/core/ScalarType.h>
#include <torch/optim/optimizer.h>
#include <torch/version.h>

#include <sstream>
#include <string>
#include <type_traits>

#define RAVE_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace rave::core {

// A c10::Allocator written once for both APIs: `allocate` is const before 2.3 and not since, and 2.3 added the
// pure virtual `copy_data` (plain memcpy is right for host memory). Subclasses implement allocate_bytes.
class HostAllocator : public c10::Allocator {
 public:
  virtual c10::DataPtr allocate_bytes(size_t bytes) const = 0;

#if RAVE_TORCH_AT_LEAST(2, 3)
  c10::DataPtr allocate(size_t bytes) override { return allocate_bytes(bytes); }
  void copy_data(void* dest, const void* src, std::size_t count) const override {
    default_copy_data(dest, src, count);
  }
#else
  c10::DataPtr allocate(size_t bytes) const override { return allocate_bytes(bytes); }
#endif
};

// The key under which torch::optim::Optimizer::state() holds a parameter's state: its TensorImpl address,
// printed as a string before 2.2 and as the pointer itself since. Taken from the map's own key type, so the
// choice cannot drift from the headers.
using OptimizerStateKey =
    std::decay_t<decltype(std::declval<torch::optim::Optimizer&>().state())>::key_type;

template <typename Key = OptimizerStateKey>
Key optimizer_state_key(const at::Tensor& parameter) {
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream text;  // what 1.13's c10::guts::to_string(TensorImpl*) writes
    text << parameter.unsafeGetTensorImpl();
    return text.str();
  } else {
    return parameter.unsafeGetTensorImpl();
  }
}

// ATen's autocast state per device type: 1.13 has one call per device (set_enabled for CUDA, set_cpu_enabled,
// get_autocast_gpu_dtype, ...), which 2.4 deprecated with a warning on every call in favour of calls that
// take the device type.
bool autocast_enabled(c10::DeviceType device);
void set_autocast_enabled(c10::DeviceType device, bool enabled);
c10::ScalarType autocast_dtype(c10::DeviceType device);
void set_autocast_dtype(c10::DeviceType device, c10::ScalarType dtype);

}  // namespace rave::core
