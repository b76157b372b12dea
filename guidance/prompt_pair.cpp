#include "guidance/prompt_pair.h"

#include <torch/torch.h>

#include "core/error.h"

namespace rave::guidance {
namespace {

torch::Tensor initial_embeddings(models::ClipModel& model, const torch::Tensor& prompt_ids) {
  if (prompt_ids.dim() != 1 || prompt_ids.is_floating_point()) {
    throw Error("prompt pair: expected token ids [context], got " + c10::str(prompt_ids.sizes()));
  }
  torch::NoGradGuard no_grad;
  const torch::Tensor ids = prompt_ids.to(model->token_embedding->weight.device(), torch::kLong);
  return model->token_embedding(ids).unsqueeze(0).repeat({2, 1, 1}).detach().clone();
}

}  // namespace

PromptPair::PromptPair(models::ClipModel model, const torch::Tensor& prompt_ids)
    : LearnedPair("prompt_embedding", initial_embeddings(model, prompt_ids)),
      model_(std::move(model)),
      // The end token has the largest id: its first position is the argmax (as the reference finds it).
      end_index_(prompt_ids.argmax().item<int64_t>()) {
  freeze();
}

torch::Tensor PromptPair::vectors() {
  return model_->encode_text_embeddings(parameter_, torch::tensor({end_index_}));
}

void PromptPair::to(const torch::Device& device) {
  model_->to(device);
  LearnedPair::to(device);
}

}  // namespace rave::guidance
