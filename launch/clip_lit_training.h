// What the trainer does besides enhancer steps for CLIP-LIT and CLIP-LIT-Latent (ALGORITHMS §4.5): the guidance
// phases (cross-entropy initialisation on the initialisation set, margin-ranking refinement on the margin set)
// with the pair's own Adam, whose gradients are averaged over the ranks like the enhancer's; the intermediate
// results of each guided round's best model under RUN_DIR/results/round<r>/; and their part of the checkpoint:
//   /optimizer/guidance/   the pair's Adam state
//   /clip_lit/             the schedule of launch/clip_lit_schedule.h, the guidance sampler's position, and
//                          best_enhancer/<name>: the weights of the current phase's latest best model
// The trainer keeps the enhancer, its schedule (warm-up, rounds, extensions, best models) and the rest of the
// checkpoint; it calls run_guidance_phase() before each enhancer step and after_enhancer_step() after it.
#pragma once

#include <torch/optim/adam.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>

#include "dist/communicator.h"
#include "dist/context.h"
#include "dist/gradient_reducer.h"
#include "dist/shard_sampler.h"
#include "guidance/guidance_datasets.h"
#include "guidance/learned_pair.h"
#include "io/checkpoint.h"
#include "launch/clip_lit_schedule.h"
#include "launch/metrics_log.h"
#include "launch/trainer.h"
#include "models/enhancer.h"

namespace rave::launch {

class ClipLitTraining {
 public:
  // The references must outlive this object; `enhancer` is the trainer's (re-initialised in place).
  ClipLitTraining(const dist::Context& context, dist::Communicator& communicator, const TrainerOptions& options,
                  guidance::GuidanceEncoder& encoder, guidance::LearnedPair& pair, models::Enhancer enhancer,
                  Schedule& enhancer_schedule);

  int64_t iteration() const { return schedule_.iteration(); }
  const ClipLitSchedule& schedule() const { return schedule_; }

  // Runs the guidance phase that is due (the initialisation at the start, a refinement after each guided
  // round) to its end, or until `stop_requested` (asked after every step, on every rank: it may be collective)
  // says true; nothing during an enhancer phase. Rank 0 writes a metrics line per step to `metrics` and calls
  // `save` every options.checkpoint_every iterations.
  void run_guidance_phase(const std::function<void()>& save, MetricsLog* metrics,
                          std::chrono::steady_clock::time_point start, const std::function<bool()>& stop_requested);
  // The enhancer schedule's after_step, plus: keep the weights of a guided phase's new best model, and write
  // the intermediate results when its round ends.
  StepDecision after_enhancer_step(const StepReport& report);

  // Adds this part to a checkpoint, whose step, round and stage become this schedule's (iteration, round of
  // the phase, phase name during guidance phases).
  void store(io::Checkpoint& checkpoint) const;
  void restore(const io::Checkpoint& checkpoint);

 private:
  // One guidance step on this rank's batch; returns the ranks' mean loss.
  double initialisation_step();
  double refinement_step();
  double finish_step(const torch::Tensor& loss);
  // The next batch of items from the current phase's sampler (made on first use, seeded with `order_seed`).
  std::vector<guidance::ItemDraw> draw_items(int64_t dataset_size, uint64_t order_seed);
  std::filesystem::path results_folder(int64_t round) const;

  const dist::Context& context_;
  dist::Communicator& communicator_;
  const TrainerOptions& options_;
  guidance::GuidanceEncoder& encoder_;
  guidance::LearnedPair& pair_;
  models::Enhancer enhancer_;
  Schedule& enhancer_schedule_;
  ClipLitSchedule schedule_;
  std::unique_ptr<torch::optim::Adam> optimizer_;
  std::unique_ptr<dist::GradientReducer> reducer_;

  io::ImageFolder backlit_folder_, welllit_folder_;
  guidance::ResizedImages backlit_, welllit_;
  guidance::InitialisationSet initialisation_set_;
  std::optional<guidance::MarginSet> margin_set_;  // of the current refinement phase
  int64_t margin_set_round_ = 0;
  // This rank's sampler over the current guidance phase's dataset, and where it stands; a position restored
  // from a checkpoint of another world size (--allow-world-size-change) is re-sharded when the sampler is made.
  std::optional<dist::ShardSampler> sampler_;
  dist::SamplerState sampler_state_;
  int sampler_world_size_;
  std::map<std::string, torch::Tensor> best_enhancer_;  // empty: no best model in this guided phase yet
};

}  // namespace rave::launch
