// What differs between RAVE and the CLIP-LIT methods, as the trainer's one loop sees it (ARCHITECTURE §2): the
// guidance the enhancer trains against and how a fresh run sets it up, the phases of the method's own that come
// between enhancer steps (CLIP-LIT's guidance initialisation and refinements, ALGORITHMS §4.5), what follows an
// enhancer step, and the method's part of a checkpoint. make_method picks the implementation once; the trainer
// never asks which method it runs.
//
// guidance::Guidance stays the loss side (the term G, its weight, its tensors): a guidance phase also needs the
// schedule, the datasets, an optimiser and checkpoint groups, which live here in launch/.
#pragma once

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "dist/communicator.h"
#include "dist/context.h"
#include "guidance/encoders.h"
#include "guidance/guidance.h"
#include "io/checkpoint.h"
#include "launch/schedule.h"
#include "launch/trainer.h"
#include "models/enhancer.h"

namespace rave::launch {

// What one step of any phase hands to the trainer's end-of-step block (metrics line, progress, checkpoint,
// re-initialisation, sync check, sample, stop signal), which exists once for every phase.
struct StepResult {
  int64_t round = 0;      // of the metrics line
  std::string stage;      // "reconstruction", "guided", "guidance-init", "refinement"
  nlohmann::json numbers;  // the metrics line's numbers besides step, round, stage, images_per_second and time
  int64_t images = 0;     // images each rank processed
  std::string progress;   // a progress line that is due after this step ("": none)
  std::string warning;    // an extension warning ("": none)
  std::string snapshot;   // also keep this step's checkpoint under this name ("best_round2.h5"; "": none)
  torch::Tensor sample;   // write a sample grid of this input (undefined: none)
};

// What a method works with: the trainer's, all outliving the method.
struct MethodParts {
  const dist::Context& context;
  dist::Communicator& communicator;
  const TrainerOptions& options;
  guidance::GuidanceEncoder& guidance_encoder;
  models::Enhancer enhancer;  // shares the trainer's module (a re-initialisation changes it in place)
  Schedule& schedule;         // the enhancer's
};

class Method {
 public:
  virtual ~Method() = default;

  // The guidance of the enhancer's guided steps.
  virtual guidance::Guidance& guidance() = 0;
  // Sets the guidance of a fresh run up (RAVE: the residual vector, computed or read); a resumed run's comes back
  // from its checkpoint instead.
  virtual void start() = 0;

  // Steps of every kind so far (what names checkpoints and metrics lines), and the round and stage of the current
  // phase: a checkpoint's root attributes.
  virtual int64_t iteration() const = 0;
  virtual int64_t round() const = 0;
  virtual std::string stage() const = 0;

  // Whether the next step is one of the method's own phases rather than an enhancer step, and that step.
  virtual bool own_phase_due() const = 0;
  virtual StepResult own_step() = 0;
  // The schedule's decision after an enhancer step (the method may act on it: CLIP-LIT keeps best models and
  // writes intermediate results).
  virtual StepDecision after_enhancer_step(const StepReport& report) = 0;
  // Collective: throws DistError when the method's own trained parameters differ between ranks.
  virtual void check_parameters_in_sync() = 0;

  // The method's own checkpoint groups besides /guidance (CLIP-LIT: /optimizer/guidance, /clip_lit), each written
  // and read by one function of its state.
  virtual void store(io::Checkpoint& checkpoint) const = 0;
  virtual void restore(const io::Checkpoint& checkpoint) = 0;
};

// The method of options.method: RAVE, or CLIP-LIT / CLIP-LIT-Latent.
std::unique_ptr<Method> make_method(const MethodParts& parts);

}  // namespace rave::launch
