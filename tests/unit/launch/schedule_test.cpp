#include "launch/schedule.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace rave::launch {
namespace {

ScheduleOptions small() {
  ScheduleOptions options;
  options.reconstruction_steps = 40;
  options.round_steps = 50;
  options.reinit_patience = 10;
  options.reinit_extra_steps = 5;
  return options;
}

StepReport healthy() { return {30.0, 1.0, 10.0}; }

TEST(Schedule, WarmUpThenRoundsOfTheirPlannedLength) {
  Schedule schedule(small());
  EXPECT_EQ(schedule.stage(), Stage::reconstruction);
  std::vector<int64_t> round_ends;
  for (int i = 0; i < 140; ++i) {
    if (schedule.after_step(healthy()).round_finished) round_ends.push_back(schedule.step());
  }
  EXPECT_EQ(round_ends, (std::vector<int64_t>{40, 90, 140}));
  EXPECT_EQ(schedule.round(), 3);
  EXPECT_EQ(schedule.stage(), Stage::guided);
}

TEST(Schedule, GuidedRoundsAreExtendedWhileTheLastStepsMetricExceeds90) {
  Schedule schedule(small());
  for (int i = 0; i < 40; ++i) schedule.after_step(healthy());
  ASSERT_EQ(schedule.round(), 1);
  for (int i = 0; i < 49; ++i) EXPECT_FALSE(schedule.after_step(healthy()).round_finished);
  // Last planned step with a bad metric: +60; again at the new end: +60 more; then a good one ends it.
  EXPECT_FALSE(schedule.after_step({30, 1, 95}).round_finished);
  for (int i = 0; i < 59; ++i) EXPECT_FALSE(schedule.after_step({30, 1, 200}).round_finished);
  EXPECT_FALSE(schedule.after_step({30, 1, 91}).round_finished);
  for (int i = 0; i < 59; ++i) schedule.after_step(healthy());
  EXPECT_TRUE(schedule.after_step({30, 1, 90}).round_finished);  // not above the threshold
  EXPECT_EQ(schedule.step(), 40 + 50 + 60 + 60);
}

// The reference extends for ever while the loss stays above the threshold; rave stops after --max-extensions
// (0: no limit) and says which test ended the round.
TEST(Schedule, ARoundEndsAfterTheMaximumOfExtensions) {
  ScheduleOptions options = small();
  options.max_extensions = 2;
  Schedule schedule(options);
  for (int i = 0; i < 40; ++i) schedule.after_step(healthy());
  std::vector<Extension> tests;
  while (schedule.round() == 1) {
    const StepDecision decision = schedule.after_step({30, 1, 200});
    if (decision.extension != Extension::none) tests.push_back(decision.extension);
    if (decision.extension == Extension::capped) {
      EXPECT_TRUE(decision.round_finished);
    }
  }
  EXPECT_EQ(tests, (std::vector<Extension>{Extension::extended, Extension::extended, Extension::capped}));
  EXPECT_EQ(schedule.step(), 40 + 50 + 2 * 60);
  EXPECT_EQ(schedule.state().extensions, 0);  // round 2 starts without any

  options.max_extensions = 0;
  Schedule unbounded(options);
  for (int i = 0; i < 40 + 50 + 29 * 60; ++i) unbounded.after_step({30, 1, 200});
  EXPECT_EQ(unbounded.round(), 1);
  EXPECT_EQ(unbounded.state().extensions, 30);

  options.max_extensions = -1;
  EXPECT_THROW(Schedule{options}, UsageError);
}

// A schedule restored in the middle of a round's extensions ends it where the straight one does: the count of
// extensions so far is part of the checkpointed state.
TEST(Schedule, TheExtensionCountSurvivesARestore) {
  ScheduleOptions options = small();
  options.max_extensions = 3;
  Schedule straight(options);
  for (int i = 0; i < 40 + 50 + 60 + 10; ++i) straight.after_step({30, 1, 200});
  ASSERT_EQ(straight.state().extensions, 2);
  Schedule resumed(options);
  resumed.restore(straight.state());
  while (straight.round() == 1) {
    straight.after_step({30, 1, 200});
    resumed.after_step({30, 1, 200});
  }
  EXPECT_EQ(resumed.round(), 2);
  EXPECT_EQ(resumed.step(), straight.step());
  EXPECT_EQ(straight.step(), 40 + 50 + 3 * 60);
}

TEST(Schedule, ExtensionTestAndItsWarnings) {
  EXPECT_EQ(extension_test(90.5, 90, 0, 10), Extension::extended);
  EXPECT_EQ(extension_test(90, 90, 0, 10), Extension::none);  // not above
  EXPECT_EQ(extension_test(167, 90, 10, 10), Extension::capped);
  EXPECT_EQ(extension_test(167, 90, 1000, 0), Extension::extended);
  EXPECT_EQ(extension_warning(Extension::extended, "round 1", "guidance + 0.9 identity", 167.25, 90, 60, 3, 10),
            "round 1: guidance + 0.9 identity of the last step, 167.2500, exceeds 90: extended by 60 steps "
            "(extension 3 of at most 10)");
  EXPECT_EQ(extension_warning(Extension::extended, "guidance initialisation", "the loss", 61, 60, 100, 12, 0),
            "guidance initialisation: the loss of the last step, 61.0000, exceeds 60: extended by 100 steps "
            "(extension 12, no limit)");
  EXPECT_EQ(extension_warning(Extension::capped, "round 2", "guidance + 0.9 identity", 91, 90, 60, 10, 10),
            "round 2: guidance + 0.9 identity of the last step, 91.0000, still exceeds 90 after 10 extensions, the "
            "maximum (--max-extensions): the phase ends here");
}

TEST(Schedule, TheWarmUpIsNeverExtendedByTheMetric) {
  Schedule schedule(small());
  bool finished = false;
  for (int i = 0; i < 40; ++i) finished = schedule.after_step({30, 1, 1000}).round_finished;
  EXPECT_TRUE(finished);
}

TEST(Schedule, ADeadNetworkIsReinitialisedAndTheWarmUpGrows) {
  Schedule schedule(small());
  std::vector<int64_t> reinits;
  for (int i = 0; i < 30; ++i) {
    if (schedule.after_step({2.0, 1.0, 0}).reinitialise) reinits.push_back(schedule.step());
  }
  // After more than 10 steps below 8 dB: at step 11, then 11 steps later, and so on.
  EXPECT_EQ(reinits, (std::vector<int64_t>{11, 22}));
  EXPECT_EQ(schedule.state().reconstruction_steps, 50);
  EXPECT_EQ(schedule.state().round_length, 50);
  // Recovering: the window mean still lags below 8 dB for a few steps (one more re-init at step 33), then the
  // warm-up runs to its grown length.
  while (!schedule.after_step(healthy()).round_finished) {
  }
  EXPECT_EQ(schedule.state().reconstruction_steps, 55);
  EXPECT_EQ(schedule.step(), 55);
}

TEST(Schedule, NoReinitialisationWhenThePsnrIsHealthyOrInGuidedRounds) {
  Schedule schedule(small());
  for (int i = 0; i < 40; ++i) EXPECT_FALSE(schedule.after_step(healthy()).reinitialise);
  for (int i = 0; i < 200; ++i) EXPECT_FALSE(schedule.after_step({0.0, 1.0, 0}).reinitialise);
}

TEST(Schedule, BestModelChecksEveryTwentyStepsAndResetsEachRound) {
  Schedule schedule(small());
  std::vector<int64_t> bests;
  // Warm-up: PSNR rises, so every check (steps 20, 40) finds a new best.
  for (int i = 0; i < 40; ++i) {
    if (schedule.after_step({10.0 + i, 1, 0}).new_best) bests.push_back(schedule.step());
  }
  // Round 1: the loss grows, so only the first check of the round (step 60) is a new best.
  for (int i = 0; i < 50; ++i) {
    if (schedule.after_step({0, 1.0 + i, 0}).new_best) bests.push_back(schedule.step());
  }
  EXPECT_EQ(bests, (std::vector<int64_t>{20, 40, 60}));
  // The window holds -loss values in guided rounds: its mean is negative.
  EXPECT_LT(schedule.window_mean(), 0);
}

TEST(Schedule, StateRoundTripContinuesIdentically) {
  Schedule a(small());
  for (int i = 0; i < 57; ++i) a.after_step({12.0 + i % 7, 2.0 + i % 5, 80});
  Schedule b(small());
  b.restore(a.state());
  for (int i = 0; i < 100; ++i) {
    const StepReport report{float(i), 3.0 - i % 3, 85.0 + i % 11};
    const StepDecision x = a.after_step(report), y = b.after_step(report);
    ASSERT_EQ(x.new_best, y.new_best);
    ASSERT_EQ(x.round_finished, y.round_finished);
  }
  EXPECT_EQ(a.step(), b.step());
  ScheduleState broken = a.state();
  broken.window.pop_back();
  EXPECT_THROW(b.restore(broken), Error);
  broken = a.state();
  broken.extensions = -1;
  EXPECT_THROW(b.restore(broken), Error);
}

TEST(Schedule, WithoutWarmUpTrainingStartsGuided) {
  ScheduleOptions options = small();
  options.reconstruction_steps = 0;
  Schedule schedule(options);
  EXPECT_EQ(schedule.stage(), Stage::guided);
  EXPECT_EQ(schedule.round(), 1);
}

}  // namespace
}  // namespace rave::launch
