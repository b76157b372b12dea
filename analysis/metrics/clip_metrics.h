// CLIP-space metrics of image sets: unit CLIP image embeddings (for CLIP-FID, see frechet.h) and a
// backlit-vs-well-lit prompt score per image, s = softmax(100 [<f, n(t_backlit)>, <f, n(t_welllit)>])[0] with
// the text embeddings of the prompts "backlit photo" and "well-lit photo" (the two-vector score of ALGORITHMS
// §4.1.1): the probability CLIP assigns to "backlit", lower is better for an enhanced image.
//
// Images go through CLIP's own preprocessing (variant B: bicubic shorter side, centre crop, normalisation), so
// the score of an image does not depend on the other images of its batch. CLIP-FID is computed on the unit
// (L2-normalised) embeddings, the space the guidance works in, so that its scale does not depend on the model.
#pragma once

#include <torch/types.h>

#include <array>
#include <optional>
#include <string>

#include "models/clip/clip_model.h"

namespace rave::analysis {

// Index 0 is the negative (backlit) prompt, as in the guidance pair.
inline const std::array<std::string, 2> kBacklitPrompts = {"backlit photo", "well-lit photo"};

class ClipScorer {
 public:
  // `clip`: a CLIP file (.pt archive or .h5 state file). `vocab`: the BPE merges file, needed for the prompt
  // score only (empty: embeddings only). The model runs on `device`.
  ClipScorer(const std::string& clip, const std::string& vocab, const torch::Device& device);

  int64_t dim() const;
  bool has_prompt_score() const { return prompts_.has_value(); }

  // uint8 [H,W,3] -> the normalised float32 [3,R,R] image the model takes (R = its input resolution).
  torch::Tensor preprocess(const torch::Tensor& hwc_u8) const;
  // [B,3,R,R] preprocessed images -> unit embeddings, float32 [B,D] on the CPU.
  torch::Tensor embed(const torch::Tensor& batch);
  // Unit embeddings [B,D] -> float64 [B] backlit probabilities. Needs a vocabulary.
  torch::Tensor backlit_probability(const torch::Tensor& unit_embeddings) const;

 private:
  models::ClipModel model_;
  torch::Device device_;
  std::optional<torch::Tensor> prompts_;  // [2,D] text embeddings of kBacklitPrompts, on the CPU
};

}  // namespace rave::analysis
