// Numeric precision of the frozen encoders (--precision fp32|bf16). bf16 runs matmuls and convolutions under
// autocast on the tensors' device; LayerNorm stays in float32 and outputs are returned as float32.
#pragma once

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <string>

namespace rave::models {

enum class Precision { kFloat32, kBFloat16 };

// "fp32" or "bf16"; anything else is a UsageError.
Precision parse_precision(const std::string& name);
std::string to_string(Precision precision);

// Enables autocast to bfloat16 on `device` for its lifetime when `precision` is kBFloat16 (nothing otherwise),
// restoring the previous autocast state afterwards.
class AutocastGuard {
 public:
  AutocastGuard(Precision precision, c10::Device device);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool active_ = false;
  c10::DeviceType device_;
  bool was_enabled_ = false;
  c10::ScalarType previous_dtype_ = c10::ScalarType::Undefined;
};

}  // namespace rave::models
