#include "models/enhancer.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/upsampling.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/pooling.h>
#include <torch/torch.h>

#include <functional>

#include "core/error.h"
#include "models/reflect_pad.h"

namespace rave::models {
namespace {

namespace F = torch::nn::functional;

constexpr double kLeakySlope = 0.2;
constexpr int64_t kPyramidBins[] = {1, 2, 3, 6};

torch::nn::Conv2d conv3x3(int64_t in, int64_t out, bool bias, const ConvPadding& padding) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1).bias(bias).padding_mode(padding));
}

bool reflects(const ConvPadding& padding) { return torch::enumtype::get_enum_name(padding) == "kReflect"; }

// conv(x), except that reflect padding runs through reflect_pad1 rather than LibTorch's reflection_pad2d (see
// reflect_pad.h); zero padding stays inside the convolution.
torch::Tensor conv3x3_forward(torch::nn::Conv2d conv, const torch::Tensor& x) {
  if (!reflects(conv->options.padding_mode())) return conv(x);
  return torch::conv2d(reflect_pad1(x), conv->weight, conv->bias);
}

// oneDNN's convolutions read and write channels-last maps as they are; on NCHW maps every call reorders its input,
// output and gradients to a blocked layout and back (15 % of the enhancer's CPU training step at 256x256). The
// light map has one channel, where the two layouts are the same.
torch::Tensor cpu_layout(const torch::Tensor& x) {
  return x.device().is_cpu() ? x.contiguous(torch::MemoryFormat::ChannelsLast) : x;
}

// Without autograd (inference) the activations overwrite their input, which no later layer reads: one
// full-resolution buffer less at every step, identical values.
bool in_place() { return !torch::GradMode::is_enabled(); }

torch::Tensor lrelu(torch::Tensor x) {
  return in_place() ? torch::leaky_relu_(x, kLeakySlope) : torch::leaky_relu(x, kLeakySlope);
}

}  // namespace

ConvPadding conv_padding_from_name(const std::string& name) {
  if (name == "zeros") return torch::kZeros;
  if (name == "reflect") return torch::kReflect;
  throw UsageError("unknown padding mode '" + name + "'", "use zeros (training) or reflect (published weights)");
}

std::string conv_padding_name(const ConvPadding& padding) {
  return reflects(padding) ? "reflect" : "zeros";
}

ResidualBlockImpl::ResidualBlockImpl(int64_t channels)
    : conv1(register_module("conv1", conv3x3(channels, channels, false, torch::kReflect))),
      conv2(register_module("conv2", conv3x3(channels, channels, false, torch::kReflect))) {}

torch::Tensor ResidualBlockImpl::forward(const torch::Tensor& x) {
  torch::Tensor o = lrelu(conv3x3_forward(conv1, x));
  o = conv3x3_forward(conv2, o);
  return lrelu(in_place() ? o.add_(x) : o + x);
}

// The layers run one statement each, reassigning one handle: a C++ temporary lives to the end of its full
// expression, so nesting the calls would keep every intermediate full-resolution map of a chain alive.

PyramidPoolingImpl::PyramidPoolingImpl(int64_t channels, int64_t reduced) {
  features = register_module("features", torch::nn::ModuleList());
  for (const int64_t bin : kPyramidBins) {
    features->push_back(torch::nn::Sequential(
        torch::nn::AdaptiveAvgPool2d(torch::nn::AdaptiveAvgPool2dOptions({bin, bin})),
        torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, reduced, 1).bias(false)), torch::nn::PReLU()));
  }
  const int64_t concatenated = channels + reduced * int64_t(std::size(kPyramidBins));
  fuse = register_module("fuse", torch::nn::Sequential(conv3x3(concatenated, channels, false, torch::kZeros),
                                                       torch::nn::PReLU()));
}

std::vector<torch::Tensor> PyramidPoolingImpl::branches(const torch::Tensor& x) {
  const std::vector<int64_t> size = {x.size(2), x.size(3)};
  std::vector<torch::Tensor> out;
  for (const auto& branch : *features) {
    out.push_back(F::interpolate(branch->as<torch::nn::Sequential>()->forward(x),
                                 F::InterpolateFuncOptions().size(size).mode(torch::kBilinear).align_corners(true)));
  }
  return out;
}


EnhancerImpl::EnhancerImpl(const EnhancerOptions& options) : options_(options) {
  const ConvPadding& pad = options_.cond_padding();
  cond1 = register_module("cond1", conv3x3(3, 32, true, pad));
  cond_add1 = register_module("cond_add1", conv3x3(32, 1, true, pad));
  condx = register_module("condx", conv3x3(32, 64, true, pad));
  condy = register_module("condy", conv3x3(64, 32, true, pad));
  ResidualBlock1 = register_module("ResidualBlock1", ResidualBlock(32));
  ResidualBlock2 = register_module("ResidualBlock2", ResidualBlock(32));
  ResidualBlock3 = register_module("ResidualBlock3", ResidualBlock(64));
  ResidualBlock4 = register_module("ResidualBlock4", ResidualBlock(64));
  ResidualBlock5 = register_module("ResidualBlock5", ResidualBlock(32));
  ResidualBlock6 = register_module("ResidualBlock6", ResidualBlock(32));
  PPM1 = register_module("PPM1", PyramidPooling(32, 8));
  initialise_weights();
}

void EnhancerImpl::initialise_weights() {
  torch::NoGradGuard no_grad;
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* conv = module->as<torch::nn::Conv2d>()) {
      // Only the weight: the reference's "Conv" rule leaves each bias at the framework default, which
      // LibTorch's Conv2d constructor has already drawn.
      torch::nn::init::normal_(conv->weight, 0.0, 0.02);
    } else if (auto* prelu = module->as<torch::nn::PReLU>()) {
      prelu->weight.fill_(0.25);
    }
  }
}

torch::Tensor EnhancerImpl::head(const torch::Tensor& x) {
  torch::Tensor h = lrelu(conv3x3_forward(cond1, cpu_layout(x)));
  h = ResidualBlock1(h);
  return ResidualBlock2(h);
}

torch::Tensor EnhancerImpl::tail(torch::Tensor h) {
  h = PPM1->fuse->forward(cpu_layout(h));
  h = conv3x3_forward(condx, h);
  h = ResidualBlock3(h);
  h = ResidualBlock4(h);
  h = conv3x3_forward(condy, h);
  h = ResidualBlock5(h);
  h = ResidualBlock6(h);
  h = conv3x3_forward(cond_add1, h);
  return in_place() ? h.relu_() : torch::relu(h);
}

torch::Tensor EnhancerImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == 3, "Enhancer expects [B,3,H,W], got ", x.sizes());
  torch::Tensor concatenation;
  {
    std::vector<torch::Tensor> parts = {head(x)};
    for (torch::Tensor& branch : PPM1->branches(parts[0])) parts.push_back(std::move(branch));
    concatenation = torch::cat(parts, 1);
  }  // the parts are freed here, before the tail runs
  return tail(std::move(concatenation));
}

torch::Tensor EnhancerImpl::enhance(const torch::Tensor& x) { return apply_light_map(x, forward(x)); }

torch::Tensor EnhancerImpl::forward_tiled(const torch::Tensor& x, int64_t tile) {
  const int64_t height = x.size(2), width = x.size(3);
  if (tile <= 0 || (height <= tile && width <= tile)) return forward(x);
  TORCH_CHECK(!torch::GradMode::is_enabled(), "Enhancer::forward_tiled is for inference (no autograd)");
  // 3x3 convolutions before PPM1 (cond1, two per residual block) and after it (fuse, condx, condy, cond_add1,
  // two per residual block): how far a wrong value at a tile's cut edge can travel inwards.
  constexpr int64_t kHaloBefore = 5, kHaloAfter = 12;
  using torch::indexing::Slice;
  // Fills `out` tile by tile with stage(rows, columns) over the grown tile, cropped back to the tile.
  const auto tiled = [&](torch::Tensor out, int64_t halo, const std::function<torch::Tensor(Slice, Slice)>& stage) {
    for (int64_t top = 0; top < height; top += tile) {
      for (int64_t left = 0; left < width; left += tile) {
        const int64_t bottom = std::min(top + tile, height), right = std::min(left + tile, width);
        const int64_t grown_top = std::max<int64_t>(0, top - halo), grown_left = std::max<int64_t>(0, left - halo);
        const torch::Tensor grown = stage(Slice(grown_top, std::min(height, bottom + halo)),
                                          Slice(grown_left, std::min(width, right + halo)));
        out.index({Slice(), Slice(), Slice(top, bottom), Slice(left, right)})
            .copy_(grown.index({Slice(), Slice(), Slice(top - grown_top, bottom - grown_top),
                                Slice(left - grown_left, right - grown_left)}));
      }
    }
    return out;
  };
  const torch::Tensor pyramid_input =
      tiled(torch::empty({x.size(0), 32, height, width}, x.options()), kHaloBefore,
            [&](Slice rows, Slice columns) { return head(x.index({Slice(), Slice(), rows, columns})); });
  std::vector<torch::Tensor> parts = PPM1->branches(pyramid_input);
  parts.insert(parts.begin(), pyramid_input);
  return tiled(torch::empty({x.size(0), 1, height, width}, x.options()), kHaloAfter, [&](Slice rows, Slice columns) {
    std::vector<torch::Tensor> crops;
    for (const auto& part : parts) crops.push_back(part.index({Slice(), Slice(), rows, columns}));
    return tail(torch::cat(crops, 1));
  });
}

torch::Tensor apply_light_map(const torch::Tensor& x, const torch::Tensor& light_map) {
  torch::Tensor enhanced = x / (light_map + 1e-9);
  return in_place() ? enhanced.clamp_(0.0, 1.0) : enhanced.clamp(0.0, 1.0);
}

void reinitialise(Enhancer& enhancer) {
  // Constructing draws in the constructor's order (each layer's default weight and bias, then §2.4 on top), so
  // the copy equals a new network under this generator state; copying keeps the parameter tensors themselves.
  const Enhancer fresh(enhancer->options());
  load_enhancer_state(enhancer, enhancer_state(fresh), "a freshly initialised enhancer");
}

std::map<std::string, torch::Tensor> enhancer_state(const Enhancer& enhancer) {
  std::map<std::string, torch::Tensor> state;
  for (const auto& item : enhancer->named_parameters()) state.emplace(item.key(), item.value().detach().cpu());
  return state;
}

void load_enhancer_state(Enhancer& enhancer, const std::map<std::string, torch::Tensor>& state,
                         const std::string& source) {
  const auto parameters = enhancer->named_parameters();
  for (const auto& [name, tensor] : state) {
    if (!parameters.contains(name)) {
      throw IoError(source + ": unexpected enhancer tensor '" + name + "'",
                    "the file does not hold the CLIP-LIT/RAVE enhancement network");
    }
  }
  torch::NoGradGuard no_grad;
  for (const auto& item : parameters) {
    const auto found = state.find(item.key());
    if (found == state.end()) {
      throw IoError(source + ": missing enhancer tensor '" + item.key() + "'",
                    "the file does not hold the CLIP-LIT/RAVE enhancement network");
    }
    if (found->second.sizes() != item.value().sizes()) {
      throw IoError(source + ": enhancer tensor '" + item.key() + "' has shape " + c10::str(found->second.sizes()) +
                    ", expected " + c10::str(item.value().sizes()));
    }
    // A diverged run's weights: enhancing with them writes black images without a word, resuming continues a
    // broken run.
    const int64_t non_finite = found->second.numel() - torch::isfinite(found->second).sum().item<int64_t>();
    if (non_finite > 0) {
      throw IoError(source + ": enhancer tensor '" + item.key() + "' holds " + std::to_string(non_finite) +
                        " NaN or infinite values",
                    "the training diverged before this file was written; use an earlier checkpoint");
    }
    item.value().copy_(found->second);
  }
}

Enhancer load_enhancer(const io::Checkpoint& checkpoint, const std::string& padding) {
  Enhancer enhancer(EnhancerOptions().cond_padding(conv_padding_from_name(padding)));
  load_enhancer_state(enhancer, checkpoint.group("enhancer"), checkpoint.path.empty() ? "checkpoint" : checkpoint.path);
  return enhancer;
}

void store_enhancer(io::Checkpoint& checkpoint, const Enhancer& enhancer) {
  checkpoint.set_group("enhancer", enhancer_state(enhancer));
  checkpoint.enhancer_padding = conv_padding_name(enhancer->options().cond_padding());
}

}  // namespace rave::models
