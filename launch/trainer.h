// The enhancer's training loop (ARCHITECTURE §2, ALGORITHMS §4.2, §4.6.2), run by every rank in lock step:
// batches from this rank's shard -> enhancer -> guidance + identity losses -> backward -> gradients averaged over
// the ranks -> Adam. The stage schedule (warm-up, rounds, re-initialisation, extensions, best models) is
// launch/schedule.h; per-step loss values are averaged over the ranks first so that every rank takes the same
// schedule decisions. Rank 0 writes checkpoints, metrics.jsonl and sample grids. Resume continues the same
// trajectory: enhancer, Adam state, schedule, sampler position and guidance come back from the checkpoint.
// One loop runs every phase: an enhancer step, or a step of the method's own phase when one is due (CLIP-LIT's
// guidance initialisation and refinements), each followed by the same end-of-step block; what differs between the
// methods is behind launch/method.h.
#pragma once

#include <cstdint>
#include <string>

#include "dist/context.h"
#include "io/checkpoint.h"
#include "io/image.h"
#include "launch/clip_lit_options.h"
#include "launch/schedule.h"
#include "models/clip/precision.h"

namespace rave::launch {

struct TrainerOptions {
  std::string method = "rave";
  std::string backlit;
  std::string welllit;
  io::ExifOrientation exif = io::kTrainingExifOrientation;  // of the backlit and well-lit photos
  std::string run_dir = "runs/default";
  int64_t max_steps = 0;
  int64_t rounds = 0;           // > 0: also stop when guided round `rounds` ends (extensions included)
  int64_t batch_size = 8;
  int64_t image_size = 512;
  uint64_t seed = 1143;
  std::string backend = "auto";
  double collective_timeout = 600;  // seconds before a stuck collective aborts (0: never)
  std::string resume;           // "", "auto" or a checkpoint path
  bool allow_world_size_change = false;  // resume a checkpoint of another world size (re-sharding the data)
  int64_t checkpoint_every = 1000;
  int keep_checkpoints = 3;
  int64_t sample_every = 500;
  int64_t check_sync_every = 0;
  int loader_threads = 2;
  int64_t loader_cache_mib = 2048;  // resized training images kept per rank (io/resized_image_cache.h)
  std::string clip;             // guidance encoder
  std::string clip_identity;    // identity encoder
  std::string residual;         // precomputed residual file (RAVE)
  double learning_rate = 2e-5;
  double weight_decay = 1e-3;
  // bf16: forward passes under autocast; weights, gradients, Adam and losses in float32.
  models::Precision precision = models::Precision::kFloat32;
  ScheduleOptions schedule;
  ClipLitOptions clip_lit;      // CLIP-LIT and CLIP-LIT-Latent only
  std::string config_ini;       // stored in checkpoints
};

// The checks that need no file: a known --method, and --backlit. Throws UsageError.
void check_options(const TrainerOptions& options);
// The checkpoint --resume names: the path given, the newest in --run-dir/checkpoints for "auto", or "" (no
// --resume, or "auto" with no checkpoint yet: a fresh start).
std::string resume_path(const TrainerOptions& options);
// What resuming `checkpoint` requires before anything is restored: the same --method, and the same number of
// ranks unless --allow-world-size-change. Throws UsageError naming the checkpoint.
void check_resumable(const io::Checkpoint& checkpoint, const TrainerOptions& options, int world_size);

// Runs training to options.max_steps; returns the process exit code: 0, or dist::kExitStopped when SIGUSR1 or
// SIGTERM stopped the run early (after a complete checkpoint).
int train(const dist::Context& context, const TrainerOptions& options);

}  // namespace rave::launch
