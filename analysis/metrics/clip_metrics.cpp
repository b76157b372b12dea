#include "analysis/metrics/clip_metrics.h"

#include <c10/core/InferenceMode.h>
#include <torch/torch.h>

#include "core/error.h"
#include "guidance/losses.h"
#include "io/image.h"
#include "io/resize.h"
#include "models/clip/loader.h"
#include "models/clip/tokenizer.h"

namespace rave::analysis {

ClipScorer::ClipScorer(const std::string& clip, const std::string& vocab, const torch::Device& device)
    : model_(models::load_clip(clip)), device_(device) {
  if (!vocab.empty()) {
    const models::Tokenizer tokenizer(vocab);
    const std::vector<std::string> prompts(kBacklitPrompts.begin(), kBacklitPrompts.end());
    c10::InferenceMode inference;
    prompts_ = model_->encode_text(tokenizer.tokenize(prompts, models::Truncation::kError,
                                                      model_->config().context_length));
  }
  model_->to(device_);
}

int64_t ClipScorer::dim() const { return model_->config().embed_dim; }

torch::Tensor ClipScorer::preprocess(const torch::Tensor& hwc_u8) const {
  return io::clip_normalize(io::to_float_chw(io::clip_resize_center_crop(hwc_u8, model_->config().image_resolution)));
}

torch::Tensor ClipScorer::embed(const torch::Tensor& batch) {
  c10::InferenceMode inference;
  const torch::Tensor features = model_->encode_image(batch.to(device_)).to(torch::kCPU, torch::kFloat32);
  return features / features.norm(2, -1, true);
}

torch::Tensor ClipScorer::backlit_probability(const torch::Tensor& unit_embeddings) const {
  if (!prompts_) {
    throw UsageError("the backlit prompt score needs the CLIP vocabulary", "pass --vocab bpe_simple_vocab_16e6.txt.gz");
  }
  c10::InferenceMode inference;
  return guidance::backlit_probability(unit_embeddings.to(torch::kFloat32), *prompts_).to(torch::kFloat64);
}

}  // namespace rave::analysis
