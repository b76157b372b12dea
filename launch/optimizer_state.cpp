#include "launch/optimizer_state.h"

#include "core/error.h"
#include "core/torch_compat.h"

namespace rave::launch {

torch::optim::AdamOptions reference_adam(double learning_rate, double weight_decay) {
  return torch::optim::AdamOptions(learning_rate).betas({0.9, 0.999}).eps(1e-8).weight_decay(weight_decay);
}
NamedTensors adam_state(torch::optim::Adam& optimizer, const torch::OrderedDict<std::string, torch::Tensor>& parameters) {
  NamedTensors result;
  auto& states = optimizer.state();
  for (const auto& item : parameters) {
    const auto found = states.find(core::optimizer_state_key(item.value()));
    if (found == states.end()) continue;
    const auto& s = static_cast<const torch::optim::AdamParamState&>(*found->second);
    result["exp_avg/" + item.key()] = s.exp_avg();
    result["exp_avg_sq/" + item.key()] = s.exp_avg_sq();
    result["step/" + item.key()] = torch::tensor(s.step(), torch::kInt64);
  }
  return result;
}

void load_adam_state(torch::optim::Adam& optimizer, const torch::OrderedDict<std::string, torch::Tensor>& parameters,
                     const NamedTensors& state, const std::string& source) {
  auto& states = optimizer.state();
  states.clear();
  for (const auto& item : parameters) {
    const std::string& name = item.key();
    if (!state.count("step/" + name)) continue;  // no step taken yet for this parameter
    auto entry = std::make_unique<torch::optim::AdamParamState>();
    for (const char* kind : {"exp_avg/", "exp_avg_sq/"}) {
      const auto found = state.find(kind + name);
      if (found == state.end() || found->second.sizes() != item.value().sizes()) {
        throw IoError(source + ": optimizer state '" + std::string(kind) + name + "' is missing or mis-shaped");
      }
    }
    const torch::Tensor& step = state.at("step/" + name);
    if (step.dim() != 0) {
      throw IoError(source + ": optimizer state 'step/" + name + "' has shape " + c10::str(step.sizes()) +
                    ", expected a scalar");
    }
    entry->step(step.item<int64_t>());
    entry->exp_avg(state.at("exp_avg/" + name).to(item.value().device()).clone());
    entry->exp_avg_sq(state.at("exp_avg_sq/" + name).to(item.value().device()).clone());
    states[core::optimizer_state_key(item.value())] = std::move(entry);
  }
}

}  // namespace rave::launch
