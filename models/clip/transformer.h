// The transformer building blocks shared by CLIP's image and text towers (ALGORITHMS §1.1): pre-norm residual
// attention blocks with packed-projection multi-head attention and a QuickGELU MLP. Module and parameter names
// equal the OpenAI state-dict names ("resblocks.3.attn.in_proj_weight", "resblocks.3.mlp.c_fc.weight").
// Activations are batch-first [B, L, D]; the reference runs sequence-first, which is the same arithmetic.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

namespace rave::models {

// x·Wᵀ + b through at::linear, which fuses the bias into one GEMM for inputs of any rank (the Linear module's
// forward in LibTorch 1.13 does a matmul and a separate bias pass for 3-d inputs).
torch::Tensor linear(const torch::nn::Linear& layer, const torch::Tensor& x);

// LayerNorm evaluated in float32 whatever the working dtype, the result cast back (CLIP's fp16-safe LayerNorm).
torch::Tensor layer_norm_fp32(const torch::nn::LayerNorm& norm, const torch::Tensor& x);

// Multi-head attention with the parameter layout of torch.nn.MultiheadAttention: in_proj_weight [3D, D] (rows
// Q, K, V), in_proj_bias [3D], out_proj (Linear D -> D). No dropout.
class MultiheadAttentionImpl : public torch::nn::Module {
 public:
  MultiheadAttentionImpl(int64_t width, int64_t heads);
  // x: [B, L, D]; mask: additive [L, L] or undefined.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask = {});
  // forward(x) at the first position alone, [B, 1, D]: its query against every key, no mask.
  torch::Tensor first_position(const torch::Tensor& x);

  torch::Tensor in_proj_weight, in_proj_bias;
  torch::nn::Linear out_proj{nullptr};

 private:
  // Projected queries [B, Lq, D] against projected keys and values [B, L, D] -> [B, Lq, D] after out_proj.
  torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                       const torch::Tensor& mask);

  int64_t heads_;
};
TORCH_MODULE(MultiheadAttention);

// c_fc (D -> 4D), QuickGELU, c_proj (4D -> D).
class MlpImpl : public torch::nn::Module {
 public:
  explicit MlpImpl(int64_t width);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Linear c_fc{nullptr}, c_proj{nullptr};
};
TORCH_MODULE(Mlp);

// h + attn(ln_1(h)), then h + mlp(ln_2(h)).
class ResidualAttentionBlockImpl : public torch::nn::Module {
 public:
  ResidualAttentionBlockImpl(int64_t width, int64_t heads);
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& mask = {});
  // forward(x) at the first position alone, [B, 1, D] (no mask).
  torch::Tensor first_position(const torch::Tensor& x);

  MultiheadAttention attn{nullptr};
  torch::nn::LayerNorm ln_1{nullptr};
  Mlp mlp{nullptr};
  torch::nn::LayerNorm ln_2{nullptr};
};
TORCH_MODULE(ResidualAttentionBlock);

// `layers` blocks applied in order, registered as "resblocks.<i>".
class TransformerImpl : public torch::nn::Module {
 public:
  TransformerImpl(int64_t width, int64_t layers, int64_t heads);
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& mask = {});
  // forward(x) at the first position alone, [B, 1, D] (no mask): the last block computes nothing else, which
  // saves most of its work when only a class token is read (the ViT).
  torch::Tensor first_position(torch::Tensor x);

  torch::nn::ModuleList resblocks;
};
TORCH_MODULE(Transformer);

}  // namespace rave::models
