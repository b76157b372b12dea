// Autocast on CPU and CUDA through ATen's global autocast state.
#include "models/clip/precision.h"

#include <ATen/autocast_mode.h>

#include "core/error.h"
#include "core/torch_compat.h"

namespace rave::models {

Precision parse_precision(const std::string& name) {
  if (name == "fp32") return Precision::kFloat32;
  if (name == "bf16") return Precision::kBFloat16;
  throw UsageError("unknown precision '" + name + "'", "use fp32 or bf16");
}

std::string to_string(Precision precision) { return precision == Precision::kBFloat16 ? "bf16" : "fp32"; }

AutocastGuard::AutocastGuard(Precision precision, c10::Device device) : device_(device.type()) {
  if (precision != Precision::kBFloat16) return;
  active_ = true;
  was_enabled_ = core::autocast_enabled(device_);
  previous_dtype_ = core::autocast_dtype(device_);
  core::set_autocast_dtype(device_, at::kBFloat16);
  core::set_autocast_enabled(device_, true);
  at::autocast::increment_nesting();
}

AutocastGuard::~AutocastGuard() {
  if (!active_) return;
  // The cast weights are cached while autocast is nested; the outermost exit frees them.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  core::set_autocast_enabled(device_, was_enabled_);
  core::set_autocast_dtype(device_, previous_dtype_);
}

}  // namespace rave::models
