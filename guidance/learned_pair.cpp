#include "guidance/learned_pair.h"

#include <torch/torch.h>

#include "core/error.h"
#include "guidance/clip_encoders.h"
#include "guidance/latent_pair.h"
#include "guidance/losses.h"
#include "guidance/prompt_pair.h"
#include "models/clip/tokenizer.h"

namespace rave::guidance {

LearnedPair::LearnedPair(std::string parameter_name, torch::Tensor parameter)
    : parameter_(std::move(parameter)), parameter_name_(std::move(parameter_name)) {
  parameter_.requires_grad_(true);
}

torch::Tensor LearnedPair::loss(const torch::Tensor& embeddings) {
  if (!frozen_.defined()) throw Error("learned guidance pair used before it was frozen");
  return clip_lit_loss(embeddings, frozen_);
}

void LearnedPair::freeze() {
  torch::NoGradGuard no_grad;
  frozen_ = vectors().detach().clone();
}

void LearnedPair::to(const torch::Device& device) {
  // Only a real move replaces the tensor: an optimiser built on the parameter must keep seeing it.
  if (parameter_.device() != device) parameter_ = parameter_.to(device).detach().requires_grad_(true);
  if (frozen_.defined()) frozen_ = frozen_.to(device);
}

torch::OrderedDict<std::string, torch::Tensor> LearnedPair::named_parameters() const {
  torch::OrderedDict<std::string, torch::Tensor> result;
  result.insert(parameter_name_, parameter_);
  return result;
}

std::map<std::string, torch::Tensor> LearnedPair::state() const {
  std::map<std::string, torch::Tensor> result{{parameter_name_, parameter_.detach().cpu()}};
  if (frozen_.defined()) result["pair"] = frozen_.cpu();
  return result;
}

void LearnedPair::load_state(const std::map<std::string, torch::Tensor>& state, const std::string& source) {
  for (const std::string& key : {parameter_name_, std::string("pair")}) {
    if (!state.count(key)) throw IoError(source + ": missing dataset 'guidance/" + key + "'");
  }
  const torch::Tensor& stored = state.at(parameter_name_);
  const torch::Tensor& pair = state.at("pair");
  if (stored.sizes() != parameter_.sizes() || pair.dim() != 2 || pair.size(0) != 2) {
    throw IoError(source + ": guidance/" + parameter_name_ + " has shape " + c10::str(stored.sizes()) + ", expected " +
                      c10::str(parameter_.sizes()) + " (and guidance/pair [2, D])",
                  "was the checkpoint written with another guidance encoder?");
  }
  torch::NoGradGuard no_grad;
  parameter_.copy_(stored);  // in place: the optimiser holds this tensor
  frozen_ = pair.to(parameter_.device(), torch::kFloat32);
}

std::unique_ptr<LearnedPair> make_learned_pair(const std::string& method, GuidanceEncoder& encoder,
                                               const std::string& vocab) {
  if (method == "clip-lit-latent") return std::make_unique<LatentPair>(encoder.dim());
  if (method != "clip-lit") throw UsageError("no learned guidance pair for --method " + method);
  auto* clip = dynamic_cast<ClipGuidanceEncoder*>(&encoder);
  if (clip == nullptr) {
    throw UsageError("--method clip-lit learns prompts through CLIP's text tower; the guidance encoder " +
                         encoder.name() + " has none",
                     "set --clip to a CLIP file, or use --method clip-lit-latent");
  }
  if (vocab.empty()) {
    throw UsageError("--method clip-lit needs --vocab (the BPE merges file) to tokenise its initial prompt",
                     "--vocab bpe_simple_vocab_16e6.txt.gz");
  }
  const models::Tokenizer tokenizer(vocab);
  return std::make_unique<PromptPair>(clip->model(), tokenizer.tokenize({kInitialPrompt}).select(0, 0));
}

}  // namespace rave::guidance
