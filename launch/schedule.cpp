#include "launch/schedule.h"

#include <spdlog/fmt/fmt.h>

#include <numeric>
#include <string>

#include "core/error.h"

namespace rave::launch {
namespace {

// The reference's reset value of the running maximum: below any window mean.
constexpr double kNoBest = -10000;

}  // namespace

Extension extension_test(double loss, double threshold, int64_t extensions, int64_t max_extensions) {
  if (!(loss > threshold)) return Extension::none;
  return max_extensions > 0 && extensions >= max_extensions ? Extension::capped : Extension::extended;
}

std::string extension_warning(Extension extension, const std::string& phase, const std::string& measured,
                              double value, double threshold, int64_t extension_steps, int64_t extensions,
                              int64_t max_extensions) {
  if (extension == Extension::capped) {
    return fmt::format("{}: {} of the last step, {:.4f}, still exceeds {:g} after {} extensions, the maximum "
                       "(--max-extensions): the phase ends here",
                       phase, measured, value, threshold, extensions);
  }
  return fmt::format("{}: {} of the last step, {:.4f}, exceeds {:g}: extended by {} steps (extension {}{})", phase,
                     measured, value, threshold, extension_steps, extensions,
                     max_extensions > 0 ? fmt::format(" of at most {}", max_extensions) : std::string(", no limit"));
}

Schedule::Schedule(const ScheduleOptions& options) : options_(options) {
  if (options.window <= 0 || options.display_every <= 0 || options.round_steps <= 0 ||
      options.reconstruction_steps < 0) {
    throw UsageError("schedule: window, display interval and round length must be positive");
  }
  if (options.extension_steps <= 0 || options.max_extensions < 0) {
    throw UsageError("extensions must be positive and --max-extensions at least 0 (0: no limit)");
  }
  state_.reconstruction_steps = options.reconstruction_steps;
  if (options.reconstruction_steps > 0) {
    start_round(0, options.reconstruction_steps);
  } else {
    start_round(1, options.round_steps);  // a network that needs no warm-up starts guided
  }
}

void Schedule::start_round(int64_t round, int64_t length) {
  state_.round = round;
  state_.step_in_round = 0;
  state_.round_length = length;
  state_.extensions = 0;
  state_.best = kNoBest;
  state_.window.assign(size_t(options_.window), 0.0);
  state_.window_position = 0;
}

double Schedule::window_mean() const {
  return std::accumulate(state_.window.begin(), state_.window.end(), 0.0) / double(options_.window);
}

StepDecision Schedule::after_step(const StepReport& report) {
  StepDecision decision;
  const bool warm_up = stage() == Stage::reconstruction;
  state_.window[size_t(state_.window_position)] = warm_up ? report.psnr_y : -report.loss;
  state_.window_position = (state_.window_position + 1) % options_.window;

  if (warm_up && ++state_.steps_since_reinit > options_.reinit_patience &&
      window_mean() < options_.reinit_below_psnr) {
    decision.reinitialise = true;
    state_.steps_since_reinit = 0;
    state_.reconstruction_steps += options_.reinit_extra_steps;
    state_.round_length += options_.reinit_extra_steps;
  }
  if ((state_.step + 1) % options_.display_every == 0 && window_mean() > state_.best) {
    state_.best = window_mean();
    decision.new_best = true;
  }

  ++state_.step;
  if (++state_.step_in_round == state_.round_length) {
    if (!warm_up) {
      decision.extension = extension_test(report.extension_metric, options_.extension_threshold, state_.extensions,
                                          options_.max_extensions);
    }
    if (decision.extension == Extension::extended) {
      state_.round_length += options_.extension_steps;
      ++state_.extensions;
    } else {
      decision.round_finished = true;
      start_round(state_.round + 1, options_.round_steps);
    }
  }
  return decision;
}

void Schedule::restore(const ScheduleState& state) {
  if (int(state.window.size()) != options_.window || state.window_position < 0 ||
      state.window_position >= options_.window || state.step_in_round > state.round_length || state.round < 0 ||
      state.extensions < 0) {
    throw Error("schedule state from the checkpoint is inconsistent (window of " + std::to_string(state.window.size()) +
                    " values, step " + std::to_string(state.step_in_round) + " of " +
                    std::to_string(state.round_length) + ")",
                "was it written by a run with other schedule options?");
  }
  state_ = state;
}

const char* stage_name(Stage stage) { return stage == Stage::reconstruction ? "reconstruction" : "guided"; }

}  // namespace rave::launch
