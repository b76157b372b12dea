#include "launch/clip_lit_schedule.h"

#include <string>

#include "core/error.h"

namespace rave::launch {

const char* phase_name(ClipLitPhase phase) {
  switch (phase) {
    case ClipLitPhase::guidance_init: return "guidance-init";
    case ClipLitPhase::enhancer: return "enhancer";
    case ClipLitPhase::refinement: return "refinement";
  }
  return "?";
}

ClipLitSchedule::ClipLitSchedule(Schedule& enhancer, const ClipLitScheduleOptions& options)
    : enhancer_(enhancer), options_(options) {
  if (options.init_steps < 0 || options.refine_steps < 0 || options.extension_steps <= 0 ||
      options.max_extensions < 0) {
    throw UsageError("CLIP-LIT schedule: guidance phase lengths must not be negative, extensions must be positive "
                     "and --max-extensions at least 0 (0: no limit)");
  }
  start_guidance_phase(ClipLitPhase::guidance_init, options.init_steps);
}

void ClipLitSchedule::start_guidance_phase(ClipLitPhase phase, int64_t length) {
  state_.step_in_phase = 0;
  state_.phase_length = length;
  state_.extensions = 0;
  state_.phase = length > 0 ? phase : ClipLitPhase::enhancer;
}

RefinementPlan ClipLitSchedule::refinement_plan() const {
  // q was toggled when the phase started: slot 1 - q holds the newest results, slot q the previous ones.
  RefinementPlan plan;
  for (const int64_t round : {state_.slots[size_t(1 - state_.slot)], state_.slots[size_t(state_.slot)]}) {
    if (round > 0) plan.result_rounds.push_back(round);
  }
  plan.tuple_size = 2 + int(plan.result_rounds.size());
  return plan;
}

GuidanceStepDecision ClipLitSchedule::after_guidance_step(double loss) {
  if (state_.phase == ClipLitPhase::enhancer) throw Error("CLIP-LIT schedule: a guidance step in an enhancer phase");
  ++state_.guidance_steps;
  GuidanceStepDecision decision;
  if (++state_.step_in_phase < state_.phase_length) return decision;
  decision.extension =
      extension_test(loss, options_.extension_threshold, state_.extensions, options_.max_extensions);
  if (decision.extension == Extension::extended) {
    state_.phase_length += options_.extension_steps;  // the test repeats at each new end
    ++state_.extensions;
    return decision;
  }
  state_.phase = ClipLitPhase::enhancer;
  state_.step_in_phase = state_.phase_length = state_.extensions = 0;
  decision.phase_finished = true;
  return decision;
}

ClipLitDecision ClipLitSchedule::after_enhancer_step(const StepReport& report) {
  if (state_.phase != ClipLitPhase::enhancer) throw Error("CLIP-LIT schedule: an enhancer step in a guidance phase");
  const int64_t round = enhancer_.round();
  ClipLitDecision decision;
  decision.enhancer = enhancer_.after_step(report);
  if (round == 0) return decision;  // warm-up: neither results nor refinement
  if (decision.enhancer.new_best) {
    state_.best_round = round;
    decision.keep_best = true;
  }
  if (decision.enhancer.round_finished) {
    if (state_.best_round == round) {
      state_.slots[size_t(state_.slot)] = round;
      decision.results_round = round;
    }
    state_.best_round = 0;
    state_.slot = 1 - state_.slot;
    start_guidance_phase(ClipLitPhase::refinement, options_.refine_steps);
  }
  return decision;
}

void ClipLitSchedule::restore(const ClipLitScheduleState& state) {
  if (state.slot < 0 || state.slot > 1 || state.step_in_phase < 0 || state.guidance_steps < 0 || state.extensions < 0 ||
      (state.phase != ClipLitPhase::enhancer && state.step_in_phase >= state.phase_length)) {
    throw Error("CLIP-LIT schedule state from the checkpoint is inconsistent (phase " +
                    std::string(phase_name(state.phase)) + ", step " + std::to_string(state.step_in_phase) + " of " +
                    std::to_string(state.phase_length) + ")",
                "was it written by a run with other schedule options?");
  }
  state_ = state;
}

}  // namespace rave::launch
