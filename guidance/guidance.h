// One guidance method (ARCHITECTURE §3): what pulls the enhanced images toward "well-lit" in the guidance
// encoder's space. RAVE's is a fixed residual vector; CLIP-LIT's learned pairs add refinement steps of their
// own. The trainer sees only this interface; the state round-trips through checkpoints (under /guidance).
#pragma once

#include <torch/types.h>

#include <map>
#include <string>

namespace rave::guidance {

class Guidance {
 public:
  virtual ~Guidance() = default;
  // "rave", "clip-lit", "clip-lit-latent".
  virtual std::string method() const = 0;
  // The guidance term G of one enhancer step from the raw guidance embeddings of the enhanced images [B, D].
  virtual torch::Tensor loss(const torch::Tensor& embeddings) = 0;
  // Weight w of G in the enhancer's loss w·G + 0.9·L_id (guidance/loss_weights.h).
  virtual double loss_weight() const = 0;
  // Tensors a checkpoint stores, by name inside /guidance.
  virtual std::map<std::string, torch::Tensor> state() const = 0;
  virtual void load_state(const std::map<std::string, torch::Tensor>& state, const std::string& source) = 0;
  virtual void to(const torch::Device& device) = 0;
};

}  // namespace rave::guidance
