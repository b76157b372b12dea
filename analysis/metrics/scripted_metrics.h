// Metrics whose networks come from the user as TorchScript exports (the README shows the Python that writes
// them), so that rave needs neither Python nor the weights' licences:
//
//   LPIPS      the `lpips` package's model (AlexNet, v0.1 linear heads), scripted or traced as
//              model(x, y) -> distances [B] (or [B,1,1,1]) for x, y in [-1,1], [B,3,H,W]. Images are compared
//              at full resolution with LPIPS's own [-1,1] scaling; the reference script's ImageNet
//              normalisation and 1024-pixel resize (ALGORITHMS §5.2) are not reproduced.
//   Inception  an Inception-v3 pool3 feature extractor (e.g. pytorch-fid's InceptionV3([3])), model(x) ->
//              [B,2048] (or [B,2048,1,1]) for x in [0,1], [B,3,299,299]; it rescales its input itself. Images
//              are resized to 299x299 with PIL's bicubic filter first (what clean-fid does), features feed
//              FeatureMoments for the FID.
//
// Both models run once on a small dummy input when loaded, so that a wrong export fails before the first image.
#pragma once

#include <torch/script.h>

#include <string>

namespace rave::analysis {

class ScriptedLpips {
 public:
  ScriptedLpips(const std::string& path, const torch::Device& device);
  // Float images in [0,1], [3,H,W] each, of one size -> their LPIPS distance.
  double distance(const torch::Tensor& a, const torch::Tensor& b);

 private:
  torch::jit::Module module_;
  std::string path_;
  torch::Device device_;
};

class ScriptedInception {
 public:
  static constexpr int64_t kInputSize = 299;

  ScriptedInception(const std::string& path, const torch::Device& device);
  // Width F of the features.
  int64_t dim() const { return dim_; }
  // uint8 [H,W,3] -> float32 [3,299,299] in [0,1].
  torch::Tensor preprocess(const torch::Tensor& hwc_u8) const;
  // [B,3,299,299] -> float64 [B,F] on the CPU.
  torch::Tensor features(const torch::Tensor& batch);

 private:
  torch::jit::Module module_;
  std::string path_;
  torch::Device device_;
  int64_t dim_ = 0;
};

}  // namespace rave::analysis
