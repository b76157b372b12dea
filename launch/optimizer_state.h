// Adam's per-parameter state (step, exp_avg, exp_avg_sq) as named tensors for checkpoints, and back, so that
// a resumed run takes exactly the optimiser steps the uninterrupted run would have taken.
#pragma once

#include <torch/optim/adam.h>

#include <map>
#include <string>

namespace rave::launch {

using NamedTensors = std::map<std::string, torch::Tensor>;

// The reference's optimiser for the enhancer and the learned pair: torch.optim.Adam with betas (0.9, 0.999),
// eps 1e-8 and coupled (L2) weight decay.
torch::optim::AdamOptions reference_adam(double learning_rate, double weight_decay);

// "exp_avg/<name>", "exp_avg_sq/<name>", "step/<name>" for every parameter that has state.
NamedTensors adam_state(torch::optim::Adam& optimizer, const torch::OrderedDict<std::string, torch::Tensor>& parameters);

// Restores what adam_state wrote; IoError naming `source` for a missing or mis-shaped entry.
void load_adam_state(torch::optim::Adam& optimizer, const torch::OrderedDict<std::string, torch::Tensor>& parameters,
                     const NamedTensors& state, const std::string& source);

}  // namespace rave::launch
