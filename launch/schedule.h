// The stage schedule of the enhancer's training (ALGORITHMS §4.2.3-4.2.5, §4.6.2) as a small explicit state
// machine, free of tensors so that every rule can be tested on its own:
//   round 0   reconstruction warm-up (L_rec) - the "PSNR window": best-model values are PSNR_Y(x, E), and a
//             network stuck below 8 dB after 100 steps is re-initialised (+100 warm-up steps each time);
//   round r   guided rounds of `round_steps` steps, best-model values are -loss; a round whose last step's
//             extension metric exceeds 90 is extended by 60 steps (the test repeats at each new end, at most
//             `max_extensions` times per round: the reference never stops extending, and a loss that stays
//             above the threshold, as with the weight-free encoders or barely trained CLIP-LIT pairs, would
//             otherwise extend one round for ever).
// Best-model bookkeeping: a 30-slot ring of values, checked every 20 global steps against the round's
// running maximum; the ring and the maximum reset at every round boundary. As in the reference, "best" only
// names snapshots on disk; training always continues from the latest weights.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rave::launch {

// Extensions a phase may get before it ends regardless of its loss (0: no limit, as in the reference). Shared by
// the guided rounds and the CLIP-LIT guidance phases, which one flag, --max-extensions, sets.
inline constexpr int64_t kDefaultMaxExtensions = 10;

// What the extension test decided at the planned end of a phase (ALGORITHMS §4.2.5).
enum class Extension {
  none,      // the phase ends: its last step's loss is at or below the threshold
  extended,  // the loss is above the threshold: the phase goes on for another extension
  capped,    // the loss is above the threshold, but the phase had its maximum of extensions: it ends
};

// The test itself: extend while `loss` exceeds `threshold`, unless `extensions` (of this phase so far) has
// reached `max_extensions` (> 0).
Extension extension_test(double loss, double threshold, int64_t extensions, int64_t max_extensions);

// The warning rank 0 logs for an extension or a cap hit: `phase` names the phase ("round 2"), `measured` what
// was tested ("the loss"), `extensions` counts the phase's extensions including the one just decided.
std::string extension_warning(Extension extension, const std::string& phase, const std::string& measured,
                              double value, double threshold, int64_t extension_steps, int64_t extensions,
                              int64_t max_extensions);

struct ScheduleOptions {
  int64_t reconstruction_steps = 1000;
  int64_t round_steps = 2100;
  int64_t extension_steps = 60;
  double extension_threshold = 90;
  int64_t max_extensions = kDefaultMaxExtensions;  // per round; 0: unbounded
  int64_t display_every = 20;
  int window = 30;
  double reinit_below_psnr = 8;
  int64_t reinit_patience = 100;
  int64_t reinit_extra_steps = 100;
};

enum class Stage { reconstruction, guided };

const char* stage_name(Stage stage);  // "reconstruction", "guided"

// What the trainer measured on one enhancer step.
struct StepReport {
  double psnr_y = 0;            // batch mean of PSNR_Y(x, E) (§5.1)
  double loss = 0;              // the loss that was minimised
  double extension_metric = 0;  // G + 0.9 L_id (§4.2.5: RAVE tests this expression too, not its 6 G + 0.9 L_id)
};

struct StepDecision {
  bool new_best = false;       // snapshot the network as the best of this round
  bool reinitialise = false;   // replace the network by a fresh one and restart its optimiser
  bool round_finished = false;  // the next step belongs to a new round
  Extension extension = Extension::none;  // at a guided round's planned end: what the extension test decided
};

// Everything resume needs to continue the schedule exactly.
struct ScheduleState {
  int64_t step = 0;           // global enhancer steps taken
  int64_t round = 0;
  int64_t step_in_round = 0;
  int64_t round_length = 0;   // planned length of the current round, extensions included
  int64_t extensions = 0;     // extensions the current round has had
  int64_t reconstruction_steps = 0;  // planned warm-up length, re-initialisations included
  int64_t steps_since_reinit = 0;
  double best = 0;            // running maximum of the window mean in this round
  std::vector<double> window;  // the ring buffer of best-model values
  int64_t window_position = 0;

  // The datasets of /trainer (io/state_archive.h); checkpoints written before extensions were capped have no count.
  template <class Archive>
  void serialize(Archive& a) {
    a("step", step);
    a("round", round);
    a("step_in_round", step_in_round);
    a("round_length", round_length);
    a.optional("extensions", extensions);
    a("reconstruction_steps", reconstruction_steps);
    a("steps_since_reinit", steps_since_reinit);
    a("best", best);
    a("window", window);
    a("window_position", window_position);
  }
};

// The trainer's count of re-initialisations (each draws its network from a seed of its own), and whether the
// current step decided one that has not happened yet: its checkpoint (and best-model snapshot) is written first,
// with the network that earned it, and records this so that resuming from it re-initialises before the next step,
// as the uninterrupted run does.
struct Reinitialisations {
  int64_t count = 0;
  bool pending = false;

  // Datasets of /trainer beside ScheduleState's; `pending` came later.
  template <class Archive>
  void serialize(Archive& a) {
    a("reinitialisations", count);
    a.optional("reinitialisation_pending", pending);
  }
};

class Schedule {
 public:
  explicit Schedule(const ScheduleOptions& options = {});

  Stage stage() const { return state_.round == 0 ? Stage::reconstruction : Stage::guided; }
  int64_t step() const { return state_.step; }
  int64_t round() const { return state_.round; }
  double window_mean() const;

  // Advances by one enhancer step that produced `report`.
  StepDecision after_step(const StepReport& report);

  const ScheduleState& state() const { return state_; }
  void restore(const ScheduleState& state);

 private:
  void start_round(int64_t round, int64_t length);

  ScheduleOptions options_;
  ScheduleState state_;
};

}  // namespace rave::launch
