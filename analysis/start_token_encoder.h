// CLIP's text encoder for rows of token ids that all begin with the start token, computing the start position
// once. Under the causal mask position 0 attends only to itself, so its states are the same in every row and at
// every layer they can be computed once and shared: the keys and values of position 0 are prepended to those of
// each row's other positions. For the vocabulary sweep (rows of 2 to 6 tokens, 3 on average) that removes a third
// of the work. The attention over so few positions is written as broadcast products: thousands of 3x3 matrix
// products per call cost more in call overhead than in arithmetic. Float32, no autocast; the same values as
// ClipModel::encode_text up to float rounding (tested).
#pragma once

#include <torch/types.h>

#include <vector>

#include "models/clip/clip_model.h"

namespace rave::analysis {

class StartTokenEncoder {
 public:
  // Precomputes the start position's keys and values at every layer. `start_of_text`: the tokenizer's start id.
  StartTokenEncoder(models::ClipModelImpl& model, int64_t start_of_text);

  // ids [B, L] (L >= 2, every row starting with the start token) -> un-normalised embeddings [B, embed_dim],
  // read at each row's first end token (its largest id). Call under inference mode or a no-grad guard.
  torch::Tensor encode(const torch::Tensor& ids);

 private:
  models::ClipModelImpl& model_;
  int64_t start_of_text_;
  std::vector<torch::Tensor> start_keys_, start_values_;  // per layer [1, heads, 1, head_dim]
};

}  // namespace rave::analysis
