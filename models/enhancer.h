// The illumination network of CLIP-LIT and RAVE (ALGORITHMS §2, "UNet_emb_oneBranch_symmetry" with PPM): a
// full-resolution stack of 3x3 convolutions, residual blocks and one pyramid-pooling module that maps an RGB
// image in [0,1] to a one-channel light map L >= 0. The enhanced image is clamp(x / (L + 1e-9), 0, 1).
// Parameter names equal the keys of the published state dicts without their "module." prefix, so weights
// move between rave checkpoints, the published .pth files and this module by name alone.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <map>
#include <string>

#include "io/checkpoint.h"

namespace rave::models {

using ConvPadding = torch::nn::Conv2dOptions::padding_mode_t;

// "zeros" or "reflect" (the names the published code and rave checkpoints use); anything else is a UsageError.
ConvPadding conv_padding_from_name(const std::string& name);
std::string conv_padding_name(const ConvPadding& padding);

// The cond* padding every model is enhanced and evaluated with unless told otherwise: both reference repositories
// train with zeros but run every model, theirs and the published ones, with reflect (RAVE inference.py, CLIP-LIT
// test.py; ALGORITHMS §2.1, §5.2). Under zeros the light map collapses at the borders, which then blow out.
inline constexpr const char* kEvaluationPadding = "reflect";

struct EnhancerOptions {
  // Padding of the four `cond*` convolutions: zeros when training (as the reference trains), reflect to
  // enhance and evaluate (kEvaluationPadding, as the reference runs every model). The residual blocks always
  // reflect; the PPM fuse convolution always pads with zeros.
  TORCH_ARG(ConvPadding, cond_padding) = torch::kZeros;
};

// o = lrelu(conv1(x)); out = lrelu(conv2(o) + x), both 3x3 reflect-padded without bias (§2.3).
class ResidualBlockImpl : public torch::nn::Module {
 public:
  explicit ResidualBlockImpl(int64_t channels);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
};
TORCH_MODULE(ResidualBlock);

// Pyramid pooling with bins 1, 2, 3, 6 (§2.2): each branch pools, projects 32 -> 8 channels and is upsampled
// back (bilinear, align_corners); input and branches are concatenated and fused back to 32 channels. The
// enhancer applies the two halves itself (branches, then fuse) so that it can run the fuse in tiles.
class PyramidPoolingImpl : public torch::nn::Module {
 public:
  PyramidPoolingImpl(int64_t channels, int64_t reduced);
  // The four branches, each upsampled back to x's size.
  std::vector<torch::Tensor> branches(const torch::Tensor& x);

  torch::nn::ModuleList features{nullptr};  // features.<i> = [pool, 1x1 conv, PReLU]
  torch::nn::Sequential fuse{nullptr};      // fuse = [3x3 conv, PReLU]
};
TORCH_MODULE(PyramidPooling);

class EnhancerImpl : public torch::nn::Module {
 public:
  explicit EnhancerImpl(const EnhancerOptions& options = {});

  // x: [B,3,H,W] in [0,1], any H, W >= 2 (reflect padding needs two pixels). Returns the light map [B,1,H,W].
  torch::Tensor forward(const torch::Tensor& x);
  // clamp(x / (forward(x) + 1e-9), 0, 1).
  torch::Tensor enhance(const torch::Tensor& x);
  // forward(x) up to float rounding (LibTorch picks its convolution kernel by tensor size, and kernels sum in
  // different orders: ~1e-8 on the light map), with far less memory for large images; inference only. Every layer
  // is local except PPM1's pooling, so the layers before PPM1 and those after it each run tile by tile: a tile
  // of tile x tile output pixels is computed from the input grown by one pixel per 3x3 convolution on each side
  // that lies inside the image (the sides on the image border get the layers' own padding, as in forward) and
  // cropped back. Full-resolution maps kept: PPM1's 32-channel input and its four 8-channel branches.
  // tile <= 0, or an image within one tile: forward(x).
  torch::Tensor forward_tiled(const torch::Tensor& x, int64_t tile);

  const EnhancerOptions& options() const { return options_; }

  torch::nn::Conv2d cond1{nullptr}, condx{nullptr}, condy{nullptr}, cond_add1{nullptr};
  ResidualBlock ResidualBlock1{nullptr}, ResidualBlock2{nullptr}, ResidualBlock3{nullptr},
      ResidualBlock4{nullptr}, ResidualBlock5{nullptr}, ResidualBlock6{nullptr};
  PyramidPooling PPM1{nullptr};

 private:
  // The layers before PPM1 (x -> its 32-channel input) and after its pooling (the concatenation of that input
  // and the four branches -> light map); both are local, unlike the pooling.
  torch::Tensor head(const torch::Tensor& x);
  torch::Tensor tail(torch::Tensor concatenation);
  // §2.4, after the layers' own initialisation: every convolution weight from N(0, 0.02^2), PReLU slopes 0.25;
  // the biases keep the framework default U(+-1/sqrt(fan_in)) their constructors drew.
  void initialise_weights();

  EnhancerOptions options_;
};
TORCH_MODULE(Enhancer);

// E = clamp(x / (light_map + 1e-9), 0, 1), the light map broadcast over the colour channels (§2.5).
torch::Tensor apply_light_map(const torch::Tensor& x, const torch::Tensor& light_map);

// Redraws every parameter in place exactly as a freshly constructed Enhancer with the same options would be drawn
// under the current generator state (biases included), so that references to the parameters (an optimiser, a
// gradient reducer) stay valid: the fresh network of re-initialisation (ALGORITHMS §4.2.4, §6 #2).
void reinitialise(Enhancer& enhancer);

// Parameters by state-dict name (detached CPU tensors sharing storage with the module).
std::map<std::string, torch::Tensor> enhancer_state(const Enhancer& enhancer);

// Copies `state` into the parameters. Every parameter must be present with its exact shape and no other name
// may occur; errors are IoErrors naming `source` (a file) and the key.
void load_enhancer_state(Enhancer& enhancer, const std::map<std::string, torch::Tensor>& state,
                         const std::string& source);

// The enhancer of a checkpoint (group /enhancer), built with the cond* padding `padding` ("zeros" or "reflect";
// rave enhance passes kEvaluationPadding unless told otherwise, whatever the checkpoint records). IoErrors name
// the checkpoint's file.
Enhancer load_enhancer(const io::Checkpoint& checkpoint, const std::string& padding);
// Puts the enhancer's parameters into `checkpoint` (replacing its enhancer group) and records its cond* padding
// as the padding the weights were trained with.
void store_enhancer(io::Checkpoint& checkpoint, const Enhancer& enhancer);

}  // namespace rave::models
