#include "analysis/start_token_encoder.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "dist/error.h"
#include "models/clip/transformer.h"

namespace rave::analysis {
namespace {

// [B, M, width] -> [B, heads, M, head_dim]
torch::Tensor per_head(const torch::Tensor& x, int64_t heads) {
  return x.reshape({x.size(0), x.size(1), heads, x.size(2) / heads}).transpose(1, 2);
}

}  // namespace

StartTokenEncoder::StartTokenEncoder(models::ClipModelImpl& model, int64_t start_of_text)
    : model_(model), start_of_text_(start_of_text) {
  torch::NoGradGuard no_grad;
  const int64_t heads = model.config().transformer_heads;
  torch::Tensor x = (model.token_embedding->weight[start_of_text] + model.positional_embedding[0]).reshape({1, 1, -1});
  for (const auto& module : *model.transformer->resblocks) {
    auto& block = *module->as<models::ResidualAttentionBlock>();
    const std::vector<torch::Tensor> qkv =
        torch::linear(models::layer_norm_fp32(block.ln_1, x), block.attn->in_proj_weight, block.attn->in_proj_bias)
            .chunk(3, -1);
    start_keys_.push_back(per_head(qkv[1], heads));
    start_values_.push_back(per_head(qkv[2], heads));
    x = block.forward(x);  // one position: no mask needed
  }
}

torch::Tensor StartTokenEncoder::encode(const torch::Tensor& ids) {
  if (ids.dim() != 2 || ids.size(1) < 2 || !ids.select(1, 0).eq(start_of_text_).all().item<bool>()) {
    throw Error("StartTokenEncoder::encode takes token ids [B, L >= 2] that all begin with the start token");
  }
  const int64_t batch = ids.size(0), rest = ids.size(1) - 1, heads = model_.config().transformer_heads;
  const torch::Tensor device_ids = ids.to(model_.text_projection.device(), torch::kLong);
  // Positions 1..L-1 of every row; position 0 lives in the precomputed keys and values.
  torch::Tensor x = model_.token_embedding(device_ids.narrow(1, 1, rest)) + model_.positional_embedding.narrow(0, 1, rest);
  // Query i (position i + 1) sees keys 0..i + 1: the start position and the row's own positions up to itself.
  const torch::Tensor mask =
      torch::full({rest, rest + 1}, -std::numeric_limits<float>::infinity(), x.options()).triu(2);
  size_t layer = 0;
  for (const auto& module : *model_.transformer->resblocks) {
    auto& block = *module->as<models::ResidualAttentionBlock>();
    const std::vector<torch::Tensor> qkv =
        torch::linear(models::layer_norm_fp32(block.ln_1, x), block.attn->in_proj_weight, block.attn->in_proj_bias)
            .chunk(3, -1);
    const torch::Tensor q = per_head(qkv[0], heads) / std::sqrt(static_cast<double>(x.size(2) / heads));
    const torch::Tensor k = torch::cat({start_keys_[layer].expand({batch, heads, 1, -1}), per_head(qkv[1], heads)}, 2);
    const torch::Tensor v =
        torch::cat({start_values_[layer].expand({batch, heads, 1, -1}), per_head(qkv[2], heads)}, 2);
    // [B, H, rest, rest + 1] scores and [B, H, rest, head_dim] outputs as broadcast products over head_dim / keys.
    const torch::Tensor scores = (q.unsqueeze(3) * k.unsqueeze(2)).sum(-1) + mask;
    const torch::Tensor out = (torch::softmax(scores, -1).unsqueeze(-1) * v.unsqueeze(2)).sum(3);
    x = x + torch::linear(out.transpose(1, 2).reshape(x.sizes()), block.attn->out_proj->weight,
                          block.attn->out_proj->bias);
    x = x + block.mlp->forward(models::layer_norm_fp32(block.ln_2, x));
    ++layer;
  }
  // The first end token (the largest id) is at position eot >= 1, row eot - 1 of x.
  const torch::Tensor rows = torch::arange(batch, device_ids.options());
  const torch::Tensor end = x.index({rows, device_ids.argmax(-1) - 1});
  return torch::matmul(models::layer_norm_fp32(model_.ln_final, end), model_.text_projection);
}

}  // namespace rave::analysis
