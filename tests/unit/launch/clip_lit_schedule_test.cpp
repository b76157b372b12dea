// The CLIP-LIT schedule simulated with stubbed losses (ALGORITHMS §8.7): phase lengths, the +60 / +100
// extensions, the 2 -> 3 -> 4 image tuples, which rounds' intermediate results each refinement ranks,
// the best-model snapshot names, and a restore in the middle of a refinement phase.
#include "launch/clip_lit_schedule.h"

#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"

namespace rave::launch {
namespace {

using Log = std::vector<std::string>;

struct Stubs {
  // The ranks' mean loss of the next guidance step, and the extension metric of the next enhancer step.
  std::function<double(const ClipLitSchedule&)> guidance_loss = [](const ClipLitSchedule&) { return 1.0; };
  std::function<double(const Schedule&)> extension_metric = [](const Schedule&) { return 10.0; };
};

std::string rounds_text(const std::vector<int64_t>& rounds) {
  std::string text;
  for (const int64_t r : rounds) text += " " + std::to_string(r);
  return text;
}

// Drives both schedules as the trainer does (a guidance phase that is due runs before the next enhancer step)
// until the enhancer has taken `enhancer_steps` steps or `stop_iteration` steps of any kind were taken, and logs what happened.
Log simulate(Schedule& enhancer, ClipLitSchedule& schedule, int64_t enhancer_steps, const Stubs& stubs,
             int64_t stop_iteration = -1) {
  Log log;
  std::set<int64_t> best_rounds;
  int64_t phase_steps = schedule.phase() == ClipLitPhase::enhancer ? 0 : schedule.state().step_in_phase;
  int64_t round_steps = enhancer.state().step_in_round;
  while (enhancer.step() < enhancer_steps && (stop_iteration < 0 || schedule.iteration() < stop_iteration)) {
    if (schedule.phase() != ClipLitPhase::enhancer) {
      if (schedule.phase() == ClipLitPhase::refinement && schedule.state().step_in_phase == 0) {
        const RefinementPlan plan = schedule.refinement_plan();
        log.push_back("refinement r" + std::to_string(schedule.round()) + ": " + std::to_string(plan.tuple_size) +
                      "-image tuples, results of rounds" + rounds_text(plan.result_rounds));
      }
      const ClipLitPhase phase = schedule.phase();
      const int64_t round = schedule.round();
      ++phase_steps;
      if (schedule.after_guidance_step(stubs.guidance_loss(schedule)).phase_finished) {
        log.push_back(std::string(phase_name(phase)) + " r" + std::to_string(round) + ": " +
                      std::to_string(phase_steps) + " steps");
        phase_steps = 0;
      }
      continue;
    }
    const int64_t round = enhancer.round();
    ++round_steps;
    const ClipLitDecision decision = schedule.after_enhancer_step({30.0, 1.0, stubs.extension_metric(enhancer)});
    if (decision.enhancer.new_best && best_rounds.insert(round).second) log.push_back("best_round" + std::to_string(round));
    if (decision.results_round > 0) log.push_back("results of round " + std::to_string(decision.results_round));
    if (decision.enhancer.round_finished) {
      log.push_back("round " + std::to_string(round) + ": " + std::to_string(round_steps) + " enhancer steps");
      round_steps = 0;
    }
  }
  return log;
}

ScheduleOptions enhancer_options(int64_t reconstruction, int64_t round, int64_t display) {
  ScheduleOptions o;
  o.reconstruction_steps = reconstruction;
  o.round_steps = round;
  o.extension_steps = 2;  // +60 in the reference
  o.display_every = display;
  o.window = 3;
  return o;
}

ClipLitScheduleOptions guidance_options(int64_t init, int64_t refine) {
  ClipLitScheduleOptions o;
  o.init_steps = init;
  o.refine_steps = refine;
  o.extension_steps = 3;  // +100 in the reference
  return o;
}

TEST(ClipLitSchedule, PhaseLengthsAndExtensions) {
  Schedule enhancer(enhancer_options(3, 6, 4));
  ClipLitSchedule schedule(enhancer, guidance_options(5, 4));
  EXPECT_EQ(schedule.phase(), ClipLitPhase::guidance_init);
  Stubs stubs;
  // The initialisation's last planned step has a loss above 60: +3; the refinement of round 2 likewise, twice.
  stubs.guidance_loss = [](const ClipLitSchedule& s) {
    const auto& st = s.state();
    const bool last = st.step_in_phase + 1 == st.phase_length;
    if (s.phase() == ClipLitPhase::guidance_init) return last && st.phase_length == 5 ? 70.0 : 0.5;
    return last && s.round() == 2 && st.phase_length < 10 ? 61.0 : 60.0;  // 60 itself does not extend
  };
  // Round 1's last planned enhancer step measures 100 > 90: +2.
  stubs.extension_metric = [](const Schedule& e) {
    return e.round() == 1 && e.state().step_in_round + 1 == 6 ? 100.0 : 90.0;
  };
  const Log log = simulate(enhancer, schedule, 3 + 8 + 6 + 6, stubs);
  EXPECT_EQ(log, (Log{"guidance-init r0: 8 steps", "round 0: 3 enhancer steps", "best_round1",
                      "results of round 1", "round 1: 8 enhancer steps",
                      "refinement r1: 3-image tuples, results of rounds 1", "refinement r1: 4 steps", "best_round2",
                      "results of round 2", "round 2: 6 enhancer steps",
                      "refinement r2: 4-image tuples, results of rounds 2 1", "refinement r2: 10 steps",
                      "best_round3", "results of round 3", "round 3: 6 enhancer steps"}));
  // The run ends after round 3's enhancer phase; its refinement is due next.
  EXPECT_EQ(schedule.phase(), ClipLitPhase::refinement);
  EXPECT_EQ(schedule.iteration(), 8 + 23 + 4 + 10);
}

TEST(ClipLitSchedule, TuplesGrowFromTwoToFourAsResultsAppear) {
  // No warm-up, rounds of 3 steps and best-model checks every 4 global steps: round 1 (steps 0-2) has no
  // check, so its refinement has no results yet; every later round has one.
  Schedule enhancer(enhancer_options(0, 3, 4));
  ClipLitSchedule schedule(enhancer, guidance_options(2, 2));
  Log refinements;
  for (const std::string& line : simulate(enhancer, schedule, 4 * 3 + 1, {}, 2 + 4 * 3 + 4 * 2)) {
    if (line.find("tuples") != std::string::npos || line.rfind("results", 0) == 0) refinements.push_back(line);
  }
  EXPECT_EQ(refinements, (Log{"refinement r1: 2-image tuples, results of rounds",
                              "results of round 2", "refinement r2: 3-image tuples, results of rounds 2",
                              "results of round 3", "refinement r3: 4-image tuples, results of rounds 3 2",
                              "results of round 4", "refinement r4: 4-image tuples, results of rounds 4 3"}));
  // Slots alternate: round 2 in slot 1, round 3 in slot 0, round 4 in slot 1 again.
  EXPECT_EQ(schedule.state().slots, (std::array<int64_t, 2>{3, 4}));
}

TEST(ClipLitSchedule, ABestAtTheLastStepOfARoundIsTheOneItsResultsComeFrom) {
  Schedule enhancer(enhancer_options(0, 4, 2));  // best-model checks at global steps 1 and 3 of round 1
  ClipLitSchedule schedule(enhancer, guidance_options(0, 1));
  std::vector<std::pair<bool, int64_t>> decisions;
  for (int i = 0; i < 4; ++i) {
    const ClipLitDecision d = schedule.after_enhancer_step({30.0, 4.0 - i, 10.0});
    decisions.push_back({d.keep_best, d.results_round});
  }
  // The losses shrink: both checks find a new best, the second on the round's last step, whose weights (not the
  // first best's) the results must come from.
  EXPECT_EQ(decisions, (std::vector<std::pair<bool, int64_t>>{{false, 0}, {true, 0}, {false, 0}, {true, 1}}));
}

TEST(ClipLitSchedule, TheWarmUpNeverYieldsResults) {
  Schedule enhancer(enhancer_options(8, 4, 2));
  ClipLitSchedule schedule(enhancer, guidance_options(0, 1));
  EXPECT_EQ(schedule.phase(), ClipLitPhase::enhancer);  // no initialisation asked for
  const Log log = simulate(enhancer, schedule, 8, {});
  EXPECT_EQ(log, (Log{"best_round0", "round 0: 8 enhancer steps"}));
  EXPECT_EQ(schedule.phase(), ClipLitPhase::enhancer);  // the warm-up is followed by round 1, no refinement
}

TEST(ClipLitSchedule, RestoredInTheMiddleOfARefinementContinuesIdentically) {
  const auto make = [] { return enhancer_options(3, 5, 2); };
  Stubs stubs;
  // The sixth step of every guidance phase is above 60: refinements (6 planned steps) get one +3 extension.
  stubs.guidance_loss = [](const ClipLitSchedule& s) { return s.state().step_in_phase == 5 ? 80.0 : 20.0; };
  stubs.extension_metric = [](const Schedule& e) { return e.step() % 7 == 0 ? 95.0 : 50.0; };

  Schedule straight_enhancer(make());
  ClipLitSchedule straight(straight_enhancer, guidance_options(4, 6));
  // Stop inside a refinement phase: 4 init, 3 warm-up, 5 + 2 round 1, 6 + 3 refinement, 5 + 2 round 2, then
  // 5 of round 2's refinement, before its extension test.
  simulate(straight_enhancer, straight, 1000, stubs, 35);
  ASSERT_EQ(straight.phase(), ClipLitPhase::refinement);
  ASSERT_EQ(straight.round(), 2);
  ASSERT_EQ(straight.state().step_in_phase, 5);

  Schedule resumed_enhancer(make());
  ClipLitSchedule resumed(resumed_enhancer, guidance_options(4, 6));
  resumed_enhancer.restore(straight_enhancer.state());
  resumed.restore(straight.state());
  EXPECT_EQ(simulate(resumed_enhancer, resumed, 40, stubs), simulate(straight_enhancer, straight, 40, stubs));
  EXPECT_EQ(resumed.iteration(), straight.iteration());
}

// A guidance phase whose loss stays above 60 ends after --max-extensions extensions; the count of the phase in
// progress is part of the state, so a schedule restored in the middle of the extensions ends where the straight
// one does (without the count it would start counting again and extend further).
TEST(ClipLitSchedule, GuidancePhasesEndAfterTheMaximumOfExtensions) {
  Schedule enhancer(enhancer_options(2, 3, 2));
  ClipLitScheduleOptions options = guidance_options(4, 1);
  options.max_extensions = 2;
  ClipLitSchedule straight(enhancer, options);
  std::vector<Extension> tests;
  int64_t steps = 0;
  ClipLitScheduleState in_extension;
  for (bool finished = false; !finished; ++steps) {
    const GuidanceStepDecision decision = straight.after_guidance_step(75.0);
    if (decision.extension != Extension::none) tests.push_back(decision.extension);
    if (straight.state().extensions == 1 && in_extension.phase_length == 0) in_extension = straight.state();
    finished = decision.phase_finished;
  }
  EXPECT_EQ(tests, (std::vector<Extension>{Extension::extended, Extension::extended, Extension::capped}));
  EXPECT_EQ(steps, 4 + 2 * 3);
  EXPECT_EQ(straight.phase(), ClipLitPhase::enhancer);
  EXPECT_EQ(straight.state().extensions, 0);

  Schedule other_enhancer(enhancer_options(2, 3, 2));
  ClipLitSchedule resumed(other_enhancer, options);
  resumed.restore(in_extension);
  int64_t resumed_steps = in_extension.step_in_phase;
  while (!resumed.after_guidance_step(75.0).phase_finished) ++resumed_steps;
  EXPECT_EQ(resumed_steps + 1, steps);

  options.max_extensions = 0;  // the reference: no limit
  Schedule unbounded_enhancer(enhancer_options(2, 3, 2));
  ClipLitSchedule unbounded(unbounded_enhancer, options);
  for (int i = 0; i < 4 + 3 * 39; ++i) EXPECT_FALSE(unbounded.after_guidance_step(75.0).phase_finished);
  EXPECT_EQ(unbounded.state().extensions, 40);
}

TEST(ClipLitSchedule, StepsOfTheWrongKindAndBadStatesAreRefused) {
  Schedule enhancer(enhancer_options(2, 3, 2));
  ClipLitSchedule schedule(enhancer, guidance_options(1, 1));
  EXPECT_THROW(schedule.after_enhancer_step({30, 1, 1}), Error);
  schedule.after_guidance_step(0.1);
  EXPECT_THROW(schedule.after_guidance_step(0.1), Error);
  ClipLitScheduleState bad;
  bad.phase = ClipLitPhase::refinement;
  bad.step_in_phase = bad.phase_length = 4;
  EXPECT_THROW(schedule.restore(bad), Error);
}

}  // namespace
}  // namespace rave::launch
