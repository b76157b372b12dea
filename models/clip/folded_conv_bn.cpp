#include "models/clip/folded_conv_bn.h"

#include <c10/core/InferenceMode.h>
#include <torch/nn/functional/conv.h>

#include <mutex>

namespace rave::models {

struct FoldedConvBn::State {
  // What identifies a tensor's values without reading them: the tensor, its storage, and its in-place writes.
  struct Source {
    const c10::TensorImpl* impl = nullptr;
    const void* data = nullptr;
    int64_t version = 0;
    bool operator==(const Source& o) const { return impl == o.impl && data == o.data && version == o.version; }
  };
  static Source source_of(const torch::Tensor& t) {
    return t.defined() ? Source{t.unsafeGetTensorImpl(), t.data_ptr(), t._version()} : Source{};
  }

  std::mutex mutex;
  std::array<Source, 6> sources;  // of the tensors `weight` and `bias` were folded from (none yet: all null)
  torch::Tensor weight, bias;
};

FoldedConvBn::FoldedConvBn(torch::nn::Conv2d conv, torch::nn::BatchNorm2d bn)
    : conv_(std::move(conv)), bn_(std::move(bn)), state_(std::make_shared<State>()) {}

std::array<torch::Tensor, 6> FoldedConvBn::tensors() const {
  return {conv_->weight, conv_->bias, bn_->weight, bn_->bias, bn_->running_mean, bn_->running_var};
}

bool FoldedConvBn::foldable() const {
  if (torch::enumtype::get_enum_name(conv_->options.padding_mode()) != "kZeros") return false;
  for (const torch::Tensor& t : tensors()) {
    if (t.defined() && (t.requires_grad() || t.is_inference())) return false;
  }
  // BatchNorm2d without affine parameters or running statistics has nothing to fold into the convolution.
  return bn_->weight.defined() && bn_->bias.defined() && bn_->running_mean.defined() && bn_->running_var.defined();
}

torch::Tensor FoldedConvBn::convolve(const torch::Tensor& x, const torch::Tensor& weight,
                                     const torch::Tensor& bias) const {
  namespace F = torch::nn::functional;
  return F::conv2d(x, weight,
                   F::Conv2dFuncOptions()
                       .bias(bias)
                       .stride(conv_->options.stride())
                       .padding(conv_->options.padding())
                       .dilation(conv_->options.dilation())
                       .groups(conv_->options.groups()));
}

torch::Tensor FoldedConvBn::unfolded(const torch::Tensor& x) const {
  return torch::batch_norm(convolve(x, conv_->weight, conv_->bias), bn_->weight, bn_->bias, bn_->running_mean,
                           bn_->running_var, /*training=*/false, /*momentum=*/0.0, bn_->options.eps(),
                           /*cudnn_enabled=*/true);
}

torch::Tensor FoldedConvBn::operator()(const torch::Tensor& x) const {
  if (!foldable()) return unfolded(x);
  const torch::Tensor& w = conv_->weight;
  const std::array<torch::Tensor, 6> pair = tensors();
  std::array<State::Source, 6> sources;
  for (size_t i = 0; i < pair.size(); ++i) sources[i] = State::source_of(pair[i]);
  torch::Tensor weight, bias;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (state_->sources != sources) {
      c10::InferenceMode not_inference(/*enabled=*/false);
      torch::NoGradGuard no_grad;
      const auto f64 = [](const torch::Tensor& t) { return t.to(torch::kFloat64); };
      const torch::Tensor scale = f64(bn_->weight) / (f64(bn_->running_var) + bn_->options.eps()).sqrt();
      const torch::Tensor shift = conv_->bias.defined() ? f64(conv_->bias) - f64(bn_->running_mean)
                                                        : -f64(bn_->running_mean);
      state_->weight = (f64(w) * scale.view({-1, 1, 1, 1})).to(w.scalar_type());
      state_->bias = (shift * scale + f64(bn_->bias)).to(w.scalar_type());
      state_->sources = sources;
    }
    weight = state_->weight;
    bias = state_->bias;
  }
  return convolve(x, weight, bias);
}

}  // namespace rave::models
