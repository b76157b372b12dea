// Each checkpointed state struct round-trips through io::StateArchive (every field set to a value of its own, so
// a field that serialize() forgets comes back as its default and fails here), keeps the dataset names checkpoints
// have always had, and reading refuses damaged datasets with the file and dataset named.
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "dist/shard_sampler.h"
#include "io/state_archive.h"
#include "launch/clip_lit_schedule.h"
#include "launch/schedule.h"

namespace rave::launch {
namespace {

// `state` written into group `group` of an in-memory checkpoint named "run.h5".
template <class State>
io::Checkpoint written(State state, const std::string& group, const std::string& prefix = "") {
  io::StateArchive out(prefix);
  out.write(state);
  io::Checkpoint checkpoint;
  checkpoint.path = "run.h5";
  checkpoint.set_group(group, out.tensors());
  return checkpoint;
}

template <class State>
State read(const io::Checkpoint& checkpoint, const std::string& group, const std::string& prefix = "") {
  io::StateArchive in(checkpoint, group, prefix);
  State state;
  state.serialize(in);
  return state;
}

ScheduleState some_schedule() {
  ScheduleState s;
  s.step = 1234;
  s.round = 2;
  s.step_in_round = 57;
  s.round_length = 2160;
  s.extensions = 1;
  s.reconstruction_steps = 1100;
  s.steps_since_reinit = 77;
  s.best = -3.25;
  s.window = {1.5, -2.0, 0.125};
  s.window_position = 2;
  return s;
}

TEST(StateSerialization, ScheduleStateRoundTrips) {
  const ScheduleState s = read<ScheduleState>(written(some_schedule(), "trainer"), "trainer");
  const ScheduleState expected = some_schedule();
  EXPECT_EQ(s.step, expected.step);
  EXPECT_EQ(s.round, expected.round);
  EXPECT_EQ(s.step_in_round, expected.step_in_round);
  EXPECT_EQ(s.round_length, expected.round_length);
  EXPECT_EQ(s.extensions, expected.extensions);
  EXPECT_EQ(s.reconstruction_steps, expected.reconstruction_steps);
  EXPECT_EQ(s.steps_since_reinit, expected.steps_since_reinit);
  EXPECT_EQ(s.best, expected.best);
  EXPECT_EQ(s.window, expected.window);
  EXPECT_EQ(s.window_position, expected.window_position);
}

TEST(StateSerialization, CheckpointsKeepTheirDatasetNames) {
  io::Checkpoint checkpoint = written(some_schedule(), "trainer");
  for (const char* name : {"step", "round", "step_in_round", "round_length", "extensions", "reconstruction_steps",
                           "steps_since_reinit", "best", "window", "window_position"}) {
    EXPECT_TRUE(checkpoint.tensors.count(std::string("trainer/") + name)) << name;
  }
  EXPECT_EQ(checkpoint.at("trainer/step").scalar_type(), torch::kInt64);
  EXPECT_EQ(checkpoint.at("trainer/best").scalar_type(), torch::kFloat64);
  const io::Checkpoint sampler = written(dist::SamplerState{3, 17}, "clip_lit", "sampler_");
  EXPECT_EQ(sampler.at("clip_lit/sampler_epoch").item<int64_t>(), 3);
  EXPECT_EQ(sampler.at("clip_lit/sampler_position").item<int64_t>(), 17);
}

TEST(StateSerialization, ReinitialisationsRoundTripAndOlderCheckpointsHaveNonePending) {
  const Reinitialisations r = read<Reinitialisations>(written(Reinitialisations{4, true}, "trainer"), "trainer");
  EXPECT_EQ(r.count, 4);
  EXPECT_TRUE(r.pending);
  io::Checkpoint older = written(Reinitialisations{2, true}, "trainer");
  older.tensors.erase("trainer/reinitialisation_pending");
  const Reinitialisations from_older = read<Reinitialisations>(older, "trainer");
  EXPECT_EQ(from_older.count, 2);
  EXPECT_FALSE(from_older.pending);
}

TEST(StateSerialization, SamplerStateRoundTrips) {
  const dist::SamplerState s = read<dist::SamplerState>(written(dist::SamplerState{5, 123}, "sampler"), "sampler");
  EXPECT_EQ(s.epoch, 5);
  EXPECT_EQ(s.position, 123);
  const dist::SamplerState prefixed =
      read<dist::SamplerState>(written(dist::SamplerState{6, 7}, "clip_lit", "sampler_"), "clip_lit", "sampler_");
  EXPECT_EQ(prefixed.epoch, 6);
  EXPECT_EQ(prefixed.position, 7);
}

TEST(StateSerialization, ClipLitScheduleStateRoundTrips) {
  ClipLitScheduleState expected;
  expected.phase = ClipLitPhase::refinement;
  expected.guidance_steps = 9000;
  expected.step_in_phase = 12;
  expected.phase_length = 1100;
  expected.extensions = 1;
  expected.slot = 1;
  expected.slots = {2, 3};
  expected.best_round = 3;
  const ClipLitScheduleState s = read<ClipLitScheduleState>(written(expected, "clip_lit"), "clip_lit");
  EXPECT_EQ(s.phase, expected.phase);
  EXPECT_EQ(s.guidance_steps, expected.guidance_steps);
  EXPECT_EQ(s.step_in_phase, expected.step_in_phase);
  EXPECT_EQ(s.phase_length, expected.phase_length);
  EXPECT_EQ(s.extensions, expected.extensions);
  EXPECT_EQ(s.slot, expected.slot);
  EXPECT_EQ(s.slots, expected.slots);
  EXPECT_EQ(s.best_round, expected.best_round);
}

// The message of the IoError that reading `checkpoint` into State throws ("" when it reads).
template <class State>
std::string read_error(const io::Checkpoint& checkpoint, const std::string& group) {
  try {
    read<State>(checkpoint, group);
  } catch (const IoError& e) {
    return e.what();
  }
  return "";
}

TEST(StateSerialization, DamagedDatasetsAreErrorsNamingFileAndDataset) {
  io::Checkpoint missing = written(some_schedule(), "trainer");
  missing.tensors.erase("trainer/round");
  EXPECT_EQ(read_error<ScheduleState>(missing, "trainer"), "run.h5: missing dataset '/trainer/round'");

  io::Checkpoint reshaped = written(some_schedule(), "trainer");
  reshaped.tensors["trainer/step"] = torch::zeros({2}, torch::kInt64);
  EXPECT_NE(read_error<ScheduleState>(reshaped, "trainer").find("run.h5: dataset '/trainer/step' has shape [2]"),
            std::string::npos);

  io::Checkpoint fractional = written(some_schedule(), "trainer");
  fractional.tensors["trainer/step"] = torch::tensor(2.5, torch::kFloat64);
  EXPECT_NE(read_error<ScheduleState>(fractional, "trainer").find("'/trainer/step': an integer was expected"),
            std::string::npos);

  ClipLitScheduleState clip_lit;
  io::Checkpoint bad_phase = written(clip_lit, "clip_lit");
  bad_phase.tensors["clip_lit/phase"] = torch::tensor(int64_t(7), torch::kInt64);
  EXPECT_NE(read_error<ClipLitScheduleState>(bad_phase, "clip_lit").find("'/clip_lit/phase': 7 is out of range"),
            std::string::npos);

  io::Checkpoint bad_flag = written(Reinitialisations{1, false}, "trainer");
  bad_flag.tensors["trainer/reinitialisation_pending"] = torch::tensor(int64_t(2), torch::kInt64);
  EXPECT_NE(read_error<Reinitialisations>(bad_flag, "trainer").find("is not 0 or 1"), std::string::npos);
}

}  // namespace
}  // namespace rave::launch
