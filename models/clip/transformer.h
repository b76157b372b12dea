// The transformer building blocks shared by CLIP's image and text towers (ALGORITHMS §1.1): pre-norm residual
// attention blocks with packed-projection multi-head attention and a QuickGELU MLP. Module and parameter names
// equal the OpenAI state-dict names ("resblocks.3.attn.in_proj_weight", "resblocks.3.mlp.c_fc.weight").
// Activations are batch-first [B, L, D]; the reference runs sequence-first, which is the same arithmetic.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <vector>

namespace rave::models {

// The keys and values one block's attention computed for a prefix of positions, per head: [B, heads, P, head_dim].
// A prefix shared by every row of a batch (B = 1) is computed once and attended to by each row.
struct KeyValues {
  torch::Tensor keys, values;
};

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
  // The keys and values of x [B, L, D], per head.
  KeyValues key_values(const torch::Tensor& x);
  // forward() of positions x [B, L, D] that follow a prefix whose keys and values are `prefix` ([1, H, P, head_dim]):
  // each query sees the prefix's positions and x's as the additive mask [L, P + L] allows.
  torch::Tensor forward_after(const torch::Tensor& x, const KeyValues& prefix, const torch::Tensor& mask);

  torch::Tensor in_proj_weight, in_proj_bias;
  torch::nn::Linear out_proj{nullptr};

 private:
  // Projected queries [B, Lq, D] against projected keys and values [B, L, D] -> [B, Lq, D] after out_proj.
  torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                       const torch::Tensor& mask);
  // [B, L, D] -> [B, heads, L, head_dim]
  torch::Tensor split_heads(const torch::Tensor& x) const;
  // The key and value projections of x [B, L, D], each [B, L, D].
  std::vector<torch::Tensor> project_keys_values(const torch::Tensor& x) const;

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
  // forward() of positions that follow a prefix whose attention keys and values are `prefix`.
  torch::Tensor forward_after(torch::Tensor x, const KeyValues& prefix, const torch::Tensor& mask);

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
  // The keys and values of every block for the prefix positions x [1, P, D] (`mask`: their own [P, P], or none),
  // for forward_after.
  std::vector<KeyValues> prefix_key_values(torch::Tensor x, const torch::Tensor& mask = {});
  // forward() of the positions x [B, L, D] that follow a prefix (prefix_key_values), with the additive mask
  // [L, P + L]: the prefix's work is done once for the whole batch.
  torch::Tensor forward_after(torch::Tensor x, const std::vector<KeyValues>& prefix, const torch::Tensor& mask);

  torch::nn::ModuleList resblocks;
};
TORCH_MODULE(Transformer);

}  // namespace rave::models
