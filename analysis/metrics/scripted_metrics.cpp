#include "analysis/metrics/scripted_metrics.h"

#include <c10/core/InferenceMode.h>
#include <torch/torch.h>

#include <filesystem>

#include "core/error.h"
#include "io/image.h"
#include "io/resize.h"

namespace rave::analysis {
namespace {

const char* const kExportHint = "export the network with torch.jit.trace (see docs/evaluation.md)";

torch::jit::Module load_module(const std::string& path, const torch::Device& device, const char* what) {
  if (!std::filesystem::is_regular_file(path)) {
    throw IoError("cannot open the " + std::string(what) + " model " + path, kExportHint);
  }
  torch::jit::Module module;
  try {
    module = torch::jit::load(path, device);
  } catch (const c10::Error& e) {
    throw IoError(path + " is not a TorchScript " + what + " model: " + e.what_without_backtrace(), kExportHint);
  }
  module.eval();
  return module;
}

// Runs the module and returns its output as a tensor, or an IoError naming the file when it returns something else.
torch::Tensor forward(torch::jit::Module& module, std::vector<torch::jit::IValue> inputs, const std::string& path) {
  torch::jit::IValue output;
  try {
    output = module.forward(std::move(inputs));
  } catch (const std::exception& e) {
    throw IoError("the TorchScript model " + path + " failed: " + e.what(), kExportHint);
  }
  if (!output.isTensor()) throw IoError("the TorchScript model " + path + " does not return a tensor", kExportHint);
  return output.toTensor();
}

}  // namespace

ScriptedLpips::ScriptedLpips(const std::string& path, const torch::Device& device)
    : module_(load_module(path, device, "LPIPS")), path_(path), device_(device) {
  const torch::Tensor probe = torch::rand({3, 64, 64});
  distance(probe, probe.flip(2));
}

double ScriptedLpips::distance(const torch::Tensor& a, const torch::Tensor& b) {
  c10::InferenceMode inference;
  const auto scaled = [&](const torch::Tensor& x) { return (x.to(device_, torch::kFloat32) * 2 - 1).unsqueeze(0); };
  const torch::Tensor d = forward(module_, {scaled(a), scaled(b)}, path_);
  if (d.numel() != 1) {
    throw IoError("the LPIPS model " + path_ + " returned " + std::to_string(d.numel()) + " values for one image pair",
                  "it must return one distance per pair (lpips.LPIPS does)");
  }
  return d.item<double>();
}

ScriptedInception::ScriptedInception(const std::string& path, const torch::Device& device)
    : module_(load_module(path, device, "Inception")), path_(path), device_(device) {
  dim_ = features(torch::zeros({1, 3, kInputSize, kInputSize})).size(1);
}

torch::Tensor ScriptedInception::preprocess(const torch::Tensor& hwc_u8) const {
  return io::to_float_chw(io::resize_pil(hwc_u8, kInputSize, kInputSize, io::PilFilter::bicubic));
}

torch::Tensor ScriptedInception::features(const torch::Tensor& batch) {
  c10::InferenceMode inference;
  const torch::Tensor out = forward(module_, {batch.to(device_, torch::kFloat32)}, path_);
  if (out.dim() < 2 || out.size(0) != batch.size(0)) {
    throw IoError("the Inception model " + path_ + " returned shape " + c10::str(out.sizes()) + " for " +
                      std::to_string(batch.size(0)) + " images",
                  "it must return [B, F] (or [B, F, 1, 1]) pool features");
  }
  return out.flatten(1).to(torch::kCPU, torch::kFloat64);
}

}  // namespace rave::analysis
