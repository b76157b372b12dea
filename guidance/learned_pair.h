// The learned guidance of CLIP-LIT and CLIP-LIT-Latent (ALGORITHMS §4.3.1, §4.4): a pair of guidance vectors
// g0 (backlit) and g1 (well-lit) computed from a learnable parameter, trained in guidance phases of their own
// (cross-entropy initialisation, margin-ranking refinement) while the enhancer is frozen, and frozen while the
// enhancer trains against it. The enhancer's term is L_clip = 320 · mean_i s(n(f_i)) with the frozen pair.
//
// The parameter is exposed by name (named_parameters) so that the trainer owns its Adam optimiser and averages
// its gradients over the ranks exactly like the enhancer's.
#pragma once

#include <torch/types.h>
// after types.h: ordered_dict.h uses TORCH_CHECK without including it
#include <torch/ordered_dict.h>

#include <memory>
#include <string>

#include "guidance/encoders.h"
#include "guidance/guidance.h"
#include "guidance/loss_weights.h"

namespace rave::guidance {

class LearnedPair : public Guidance {
 public:
  torch::Tensor loss(const torch::Tensor& embeddings) override;
  double loss_weight() const override { return kClipLitGuidanceWeight; }
  // The parameter under parameter_name(), and the frozen pair under "pair".
  std::map<std::string, torch::Tensor> state() const override;
  void load_state(const std::map<std::string, torch::Tensor>& state, const std::string& source) override;
  void to(const torch::Device& device) override;

  // The guidance vectors [2, D] from the current parameter, differentiable in it (row 0 = backlit).
  virtual torch::Tensor vectors() = 0;
  // Takes vectors() (detached) as the pair loss() uses: called when a guidance phase ends, so the enhancer
  // trains against the pair as the last guidance step left it.
  void freeze();
  const torch::Tensor& frozen_pair() const { return frozen_; }

  // The learnable tensor by its checkpoint name ("prompt_embedding" or "guidance_embeddings").
  torch::OrderedDict<std::string, torch::Tensor> named_parameters() const;
  // Adam's learning rate for this parameter in the reference (5e-6 for prompts, 5e-4 for latent vectors).
  virtual double default_learning_rate() const = 0;

 protected:
  LearnedPair(std::string parameter_name, torch::Tensor parameter);
  torch::Tensor parameter_;

 private:
  std::string parameter_name_;
  torch::Tensor frozen_;
};

// The learned pair of `method` ("clip-lit" or "clip-lit-latent") for the guidance encoder `encoder`.
// CLIP-LIT needs a CLIP encoder (its text tower) and the BPE merges file `vocab` to tokenise the prompt;
// CLIP-LIT-Latent draws its vectors from the current torch seed. UsageError for anything else.
std::unique_ptr<LearnedPair> make_learned_pair(const std::string& method, GuidanceEncoder& encoder,
                                               const std::string& vocab);

}  // namespace rave::guidance
