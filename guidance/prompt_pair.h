// CLIP-LIT's learned prompts (ALGORITHMS §4.3.1): a parameter P [2, L, W] of token embeddings, both rows
// initialised from the embeddings of the tokenised "X X ... X" (16 placeholders), so the two prompts start
// identical and every backlit probability is exactly 0.5 until a gradient step separates them. The guidance
// vectors are the text tower's outputs for P through the soft-prompt path, read at the prompt's end token
// (position 17); the tower is frozen and shared with the guidance encoder.
#pragma once

#include "guidance/learned_pair.h"
#include "models/clip/clip_model.h"

namespace rave::guidance {

// The reference's initial prompt: 16 placeholder words.
inline constexpr const char* kInitialPrompt = "X X X X X X X X X X X X X X X X";

class PromptPair : public LearnedPair {
 public:
  // `prompt_ids`: the tokenised initial prompt [context] (start, words, end, zero padding).
  PromptPair(models::ClipModel model, const torch::Tensor& prompt_ids);

  std::string method() const override { return "clip-lit"; }
  // encode_text_embeddings cuts the prompts after the end token: exact, because the mask is causal.
  torch::Tensor vectors() override;
  double default_learning_rate() const override { return 5e-6; }
  void to(const torch::Device& device) override;

  int64_t end_index() const { return end_index_; }

 private:
  models::ClipModel model_;
  int64_t end_index_;
};

}  // namespace rave::guidance
