// The CLIP-LIT / CLIP-LIT-Latent schedule (ALGORITHMS §4.5, with the fixes of §6) as an explicit state machine
// free of tensors, layered on the enhancer's Schedule (schedule.h), which keeps the warm-up, the rounds, the +60
// extensions, re-initialisation and best-model bookkeeping:
//
//   guidance init   `init_steps` cross-entropy steps on the pair (+100 while the last loss exceeds 60, at most
//                   `max_extensions` times per phase, as the enhancer's rounds);
//   reconstruction  round 0 of the enhancer schedule;
//   round r >= 1    the enhancer phase (L_clip + 0.9 L_id against the frozen pair), then q <- 1 - q and a
//                   refinement phase of `refine_steps` margin-ranking steps (+100 while the last loss exceeds 60)
//                   on tuples of 2, 3 or 4 images, depending on which intermediate results exist.
//
// Intermediate results: the reference regenerates them from the network at every new best of a guided phase
// into slot q, and only the last of them is read (by the following refinement). So the trainer keeps the
// weights of the phase's latest best and regenerates once, at the end of the phase: the same files at a
// fraction of the cost (§6 #23). Slot q then holds round r's results; the refinement uses semi1 = the newest
// results and semi2 = the previous ones when they exist (the 4-image order of the reference, §6 #32).
// The PSNR window is the warm-up only (§6 #9), so every guided round's best can yield results.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "launch/schedule.h"

namespace rave::launch {

struct ClipLitScheduleOptions {
  int64_t init_steps = 8000;
  int64_t refine_steps = 1000;
  int64_t extension_steps = 100;
  double extension_threshold = 60;
  int64_t max_extensions = kDefaultMaxExtensions;  // per guidance phase; 0: unbounded
};

enum class ClipLitPhase { guidance_init, enhancer, refinement };

const char* phase_name(ClipLitPhase phase);  // "guidance-init", "enhancer", "refinement"

// The data of one refinement phase.
struct RefinementPlan {
  int tuple_size = 2;                // 2: (input, reference); 3: + semi1; 4: + semi1, semi2
  std::vector<int64_t> result_rounds;  // rounds whose intermediate results are semi1[, semi2], newest first
};

struct GuidanceStepDecision {
  bool phase_finished = false;
  Extension extension = Extension::none;  // at the phase's planned end: what the extension test decided
};

struct ClipLitDecision {
  StepDecision enhancer;      // what the enhancer schedule decided
  bool keep_best = false;     // a new best model of a guided phase: keep its weights for the results
  int64_t results_round = 0;  // > 0: write the intermediate results of this round's best model now
};

// Everything resume needs to continue the schedule exactly (the enhancer's part is ScheduleState).
struct ClipLitScheduleState {
  ClipLitPhase phase = ClipLitPhase::enhancer;
  int64_t guidance_steps = 0;  // guidance steps taken in the whole run (initialisation and refinements)
  int64_t step_in_phase = 0;   // of the current guidance phase
  int64_t phase_length = 0;    // planned length of the current guidance phase, extensions included
  int64_t extensions = 0;      // extensions the current guidance phase has had
  int64_t slot = 0;            // q
  std::array<int64_t, 2> slots{0, 0};  // the round whose results each slot holds (0: none)
  int64_t best_round = 0;      // the current guided phase had a new best (its round): results due at its end

  // The datasets of /clip_lit (io/state_archive.h); checkpoints written before extensions were capped have no count.
  template <class Archive>
  void serialize(Archive& a) {
    a.enumeration("phase", phase, ClipLitPhase::refinement);
    a("guidance_steps", guidance_steps);
    a("step_in_phase", step_in_phase);
    a("phase_length", phase_length);
    a.optional("extensions", extensions);
    a("slot", slot);
    a("slots", slots);
    a("best_round", best_round);
  }
};

class ClipLitSchedule {
 public:
  // `enhancer` is the trainer's schedule; it must outlive this object.
  ClipLitSchedule(Schedule& enhancer, const ClipLitScheduleOptions& options = {});

  ClipLitPhase phase() const { return state_.phase; }
  // Steps of every kind so far: what names checkpoints and metrics lines of these methods.
  int64_t iteration() const { return state_.guidance_steps + enhancer_.step(); }
  // The enhancer's round (0 = warm-up); a refinement belongs to the round whose enhancer phase preceded it.
  int64_t round() const { return enhancer_.round() - (state_.phase == ClipLitPhase::refinement ? 1 : 0); }
  // The tuples of the current refinement phase (from the slots as they are now).
  RefinementPlan refinement_plan() const;

  // One guidance step (initialisation or refinement) with the ranks' mean loss.
  GuidanceStepDecision after_guidance_step(double loss);
  // One enhancer step: advances the enhancer schedule and says when intermediate results are due.
  ClipLitDecision after_enhancer_step(const StepReport& report);

  const ClipLitScheduleState& state() const { return state_; }
  void restore(const ClipLitScheduleState& state);

 private:
  void start_guidance_phase(ClipLitPhase phase, int64_t length);

  Schedule& enhancer_;
  ClipLitScheduleOptions options_;
  ClipLitScheduleState state_;
};

}  // namespace rave::launch
