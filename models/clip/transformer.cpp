// Attention, MLP and residual blocks of CLIP's transformers. The attention follows the operation order of
// PyTorch's multi_head_attention_forward (scale Q, then Q·Kᵀ with the mask added by baddbmm, softmax, ·V) so
// that results agree with the reference to float32 rounding.
#include "models/clip/transformer.h"

#include <cmath>

namespace rave::models {

torch::Tensor linear(const torch::nn::Linear& layer, const torch::Tensor& x) {
  return torch::linear(x, layer->weight, layer->bias);
}

torch::Tensor layer_norm_fp32(const torch::nn::LayerNorm& norm, const torch::Tensor& x) {
  const auto& options = norm->options;
  return torch::layer_norm(x.to(torch::kFloat32), options.normalized_shape(), norm->weight, norm->bias, options.eps())
      .to(x.scalar_type());
}

MultiheadAttentionImpl::MultiheadAttentionImpl(int64_t width, int64_t heads) : heads_(heads) {
  in_proj_weight = register_parameter("in_proj_weight", torch::empty({3 * width, width}));
  in_proj_bias = register_parameter("in_proj_bias", torch::zeros({3 * width}));
  out_proj = register_module("out_proj", torch::nn::Linear(width, width));
  torch::nn::init::xavier_uniform_(in_proj_weight);
  torch::nn::init::zeros_(out_proj->bias);
}

torch::Tensor MultiheadAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  const std::vector<torch::Tensor> qkv = torch::linear(x, in_proj_weight, in_proj_bias).chunk(3, -1);
  return attend(qkv[0], qkv[1], qkv[2], mask);
}

torch::Tensor MultiheadAttentionImpl::first_position(const torch::Tensor& x) {
  const int64_t width = x.size(2);
  const torch::Tensor q =
      torch::linear(x.narrow(1, 0, 1), in_proj_weight.narrow(0, 0, width), in_proj_bias.narrow(0, 0, width));
  const std::vector<torch::Tensor> kv = project_keys_values(x);
  return attend(q, kv[0], kv[1], torch::Tensor());
}

KeyValues MultiheadAttentionImpl::key_values(const torch::Tensor& x) {
  const std::vector<torch::Tensor> kv = project_keys_values(x);
  return {split_heads(kv[0]), split_heads(kv[1])};
}

std::vector<torch::Tensor> MultiheadAttentionImpl::project_keys_values(const torch::Tensor& x) const {
  const int64_t width = x.size(2);
  return torch::linear(x, in_proj_weight.narrow(0, width, 2 * width), in_proj_bias.narrow(0, width, 2 * width))
      .chunk(2, -1);
}

torch::Tensor MultiheadAttentionImpl::forward_after(const torch::Tensor& x, const KeyValues& prefix,
                                                    const torch::Tensor& mask) {
  const std::vector<torch::Tensor> qkv = torch::linear(x, in_proj_weight, in_proj_bias).chunk(3, -1);
  const int64_t batch = x.size(0);
  const torch::Tensor q = split_heads(qkv[0]) / std::sqrt(static_cast<double>(x.size(2) / heads_));
  const torch::Tensor k = torch::cat({prefix.keys.expand({batch, -1, -1, -1}), split_heads(qkv[1])}, 2);
  const torch::Tensor v = torch::cat({prefix.values.expand({batch, -1, -1, -1}), split_heads(qkv[2])}, 2);
  // Scores [B, H, L, P + L] and outputs [B, H, L, head_dim] as broadcast products: the positions are few (the
  // vocabulary sweep's rows have 2 to 6 tokens), and thousands of tiny matrix products cost more in call overhead
  // than in arithmetic.
  const torch::Tensor scores = (q.unsqueeze(3) * k.unsqueeze(2)).sum(-1) + mask;
  const torch::Tensor out = (torch::softmax(scores, -1).unsqueeze(-1) * v.unsqueeze(2)).sum(3);
  return linear(out_proj, out.transpose(1, 2).reshape(x.sizes()));
}

torch::Tensor MultiheadAttentionImpl::split_heads(const torch::Tensor& x) const {
  return x.reshape({x.size(0), x.size(1), heads_, x.size(2) / heads_}).transpose(1, 2);
}

torch::Tensor MultiheadAttentionImpl::attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                             const torch::Tensor& mask) {
  const int64_t batch = q.size(0), queries = q.size(1), width = q.size(2), head_dim = width / heads_;
  // [B, L, D] -> [B·H, L, head_dim]
  auto per_head = [&](const torch::Tensor& t) {
    return split_heads(t).reshape({batch * heads_, t.size(1), head_dim});
  };
  const torch::Tensor scaled = per_head(q) / std::sqrt(static_cast<double>(head_dim));
  const torch::Tensor keys = per_head(k).transpose(1, 2);
  const torch::Tensor scores = mask.defined() ? torch::baddbmm(mask, scaled, keys) : torch::bmm(scaled, keys);
  const torch::Tensor heads = torch::bmm(torch::softmax(scores, -1), per_head(v));
  return linear(out_proj,
                heads.view({batch, heads_, queries, head_dim}).transpose(1, 2).reshape({batch, queries, width}));
}

MlpImpl::MlpImpl(int64_t width) {
  c_fc = register_module("c_fc", torch::nn::Linear(width, 4 * width));
  c_proj = register_module("c_proj", torch::nn::Linear(4 * width, width));
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) {
  const torch::Tensor h = linear(c_fc, x);
  // QuickGELU, not the erf GELU. Without autograd the activation is computed in place of one temporary.
  const torch::Tensor gelu = h.requires_grad() ? h * torch::sigmoid(1.702 * h) : (1.702 * h).sigmoid_().mul_(h);
  return linear(c_proj, gelu);
}

ResidualAttentionBlockImpl::ResidualAttentionBlockImpl(int64_t width, int64_t heads) {
  attn = register_module("attn", MultiheadAttention(width, heads));
  ln_1 = register_module("ln_1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({width}).eps(1e-5)));
  mlp = register_module("mlp", Mlp(width));
  ln_2 = register_module("ln_2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({width}).eps(1e-5)));
}

torch::Tensor ResidualAttentionBlockImpl::forward(torch::Tensor x, const torch::Tensor& mask) {
  x = x + attn(layer_norm_fp32(ln_1, x), mask);
  return x + mlp(layer_norm_fp32(ln_2, x));
}

torch::Tensor ResidualAttentionBlockImpl::first_position(const torch::Tensor& x) {
  const torch::Tensor first = x.narrow(1, 0, 1) + attn->first_position(layer_norm_fp32(ln_1, x));
  return first + mlp(layer_norm_fp32(ln_2, first));
}

torch::Tensor ResidualAttentionBlockImpl::forward_after(torch::Tensor x, const KeyValues& prefix,
                                                        const torch::Tensor& mask) {
  x = x + attn->forward_after(layer_norm_fp32(ln_1, x), prefix, mask);
  return x + mlp(layer_norm_fp32(ln_2, x));
}

TransformerImpl::TransformerImpl(int64_t width, int64_t layers, int64_t heads) {
  for (int64_t i = 0; i < layers; ++i) resblocks->push_back(ResidualAttentionBlock(width, heads));
  register_module("resblocks", resblocks);
}

torch::Tensor TransformerImpl::forward(torch::Tensor x, const torch::Tensor& mask) {
  for (const auto& block : *resblocks) x = block->as<ResidualAttentionBlock>()->forward(x, mask);
  return x;
}

torch::Tensor TransformerImpl::first_position(torch::Tensor x) {
  const size_t blocks = resblocks->size();
  if (blocks == 0) return x.narrow(1, 0, 1);
  for (size_t i = 0; i + 1 < blocks; ++i) x = (*resblocks)[i]->as<ResidualAttentionBlock>()->forward(x);
  return (*resblocks)[blocks - 1]->as<ResidualAttentionBlock>()->first_position(x);
}

std::vector<KeyValues> TransformerImpl::prefix_key_values(torch::Tensor x, const torch::Tensor& mask) {
  std::vector<KeyValues> prefix;
  for (const auto& module : *resblocks) {
    auto& block = *module->as<ResidualAttentionBlock>();
    prefix.push_back(block.attn->key_values(layer_norm_fp32(block.ln_1, x)));
    x = block.forward(x, mask);
  }
  return prefix;
}

torch::Tensor TransformerImpl::forward_after(torch::Tensor x, const std::vector<KeyValues>& prefix,
                                             const torch::Tensor& mask) {
  TORCH_CHECK(prefix.size() == resblocks->size(), "forward_after: keys and values of ", prefix.size(),
              " blocks for a transformer of ", resblocks->size());
  for (size_t i = 0; i < prefix.size(); ++i) {
    x = (*resblocks)[i]->as<ResidualAttentionBlock>()->forward_after(x, prefix[i], mask);
  }
  return x;
}

}  // namespace rave::models
