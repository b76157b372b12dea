// rave train: the training methods (ARCHITECTURE §4 lists the flags scripts rely on).
#include <cmath>
#include <limits>
#include <optional>
#include <utility>

#include "core/cpu_block_cache.h"
#include "core/error.h"
#include "io/option_binder.h"
#include "launch/commands/all.h"
#include "launch/commands/exif_option.h"
#include "launch/dry_run.h"
#include "launch/trainer.h"

namespace rave::launch {
namespace {

// Every flag of rave train, bound to its field (io/option_binder.h): the defaults are the fields' own, in
// TrainerOptions (launch/trainer.h) and the structs it holds.
struct TrainFlags {
  TrainerOptions options;
  std::optional<int64_t> max_steps;  // default: warm-up + 3 rounds, or no limit when --rounds says where to stop
  bool dry_run = false;
};

void bind(io::OptionBinder& b, TrainFlags& f) {
  TrainerOptions& o = f.options;
  b.command_line_only();
  b.bind("dry-run", f.dry_run,
         "check the configuration (paths, encoders, --resume, --run-dir), time a few steps and estimate the peak "
         "memory per rank; writes nothing");
  b.section("data");
  b.bind("backlit", o.backlit, "folder of backlit training images");
  b.bind("welllit", o.welllit, "folder of well-lit images (RAVE: the positive set of the residual vector)");
  b.bind("image-size", o.image_size, "training resolution (square, Lanczos resize)");
  b.bind("loader-threads", o.loader_threads, "image decoding threads per rank");
  b.bind("loader-cache-mib", o.loader_cache_mib,
         "MiB of resized training images each rank keeps in memory instead of decoding them again (0: none)");
  bind_exif(b, o.exif);
  b.section("train");
  b.bind("method", o.method, "rave, clip-lit or clip-lit-latent");
  b.bind("run-dir", o.run_dir, "checkpoints, metrics and samples go here");
  b.bind("max-steps", f.max_steps, "stop after this many enhancer steps (default: warm-up + 3 rounds)");
  b.bind("rounds", o.rounds, "also stop when this guided round ends, extensions included (0: no limit)");
  b.bind("batch-size", o.batch_size, "images per rank per step");
  b.bind("seed", o.seed, "seed of every random draw");
  b.bind("precision", o.precision, "fp32, or bf16: forward passes under autocast (weights, Adam, losses fp32)",
         [](models::Precision p) { return models::to_string(p); }, models::parse_precision);
  b.bind("lr", o.learning_rate, "Adam learning rate of the enhancer");
  b.bind("weight-decay", o.weight_decay, "Adam (coupled, L2) weight decay");
  b.bind("backend", o.backend, "gradient all-reduce: auto, mpi or nccl");
  b.bind("check-sync-every", o.check_sync_every, "steps between checks that all ranks agree (0: never)");
  b.bind("collective-timeout", o.collective_timeout, "seconds before a stuck collective aborts (0: never)");
  b.bind("resume", o.resume, "auto (newest checkpoint in --run-dir) or a checkpoint path");
  b.bind("allow-world-size-change", o.allow_world_size_change,
         "resume a checkpoint written by another number of ranks (the data is re-sharded; the run leaves the "
         "uninterrupted trajectory)");
  b.bind("checkpoint-every", o.checkpoint_every, "steps between checkpoints");
  b.bind("keep-checkpoints", o.keep_checkpoints, "periodic checkpoints kept (best_round<r>.h5 always kept)");
  b.bind("sample-every", o.sample_every, "steps between sample grids (input | enhanced | light map)");
  b.bind("reconstruction-steps", o.schedule.reconstruction_steps, "reconstruction warm-up steps");
  b.bind("round-steps", o.schedule.round_steps, "enhancer steps per guided round");
  b.bind("extension-threshold", o.schedule.extension_threshold,
         "extend a guided round by 60 steps while its last step's guidance + 0.9 identity loss exceeds this");
  b.bind("max-extensions", o.schedule.max_extensions,
         "extensions a guided round or a guidance phase gets at most before it ends anyway (0: no limit, as the "
         "reference)");
  b.section("guidance");
  b.bind("clip", o.clip, "guidance encoder: CLIP ViT file (.pt or .h5) or 'photometric'");
  b.bind("clip-identity", o.clip_identity, "identity encoder: CLIP RN file (.pt or .h5) or 'pixels'");
  b.bind("vocab", o.clip_lit.vocab, "BPE merges file (bpe_simple_vocab_16e6.txt.gz; CLIP-LIT methods)");
  b.bind("residual", o.residual, "use this residual-vector file instead of computing it");
  b.bind("guidance-init-steps", o.clip_lit.schedule.init_steps, "guidance initialisation steps (CLIP-LIT methods)");
  b.bind("refine-steps", o.clip_lit.schedule.refine_steps, "guidance refinement steps per round (CLIP-LIT methods)");
  b.bind("guidance-batch-size", o.clip_lit.batch_size, "guidance images (or tuples) per rank per step");
  b.bind("guidance-image-size", o.clip_lit.image_size, "side of the guidance images and intermediate results");
  b.bind("guidance-lr", o.clip_lit.learning_rate, "Adam learning rate of the pair (0: 5e-6 clip-lit, 5e-4 latent)");
  b.bind("guidance-extension-threshold", o.clip_lit.schedule.extension_threshold,
         "extend a guidance phase by 100 steps while its last step's loss exceeds this (CLIP-LIT methods)");
}

// Every number a user can get wrong, as a usage error naming the flag: before, a negative --max-steps trained
// nothing and exited 0, --lr nan trained to NaN weights, and --image-size 100000 died of bad_alloc.
void check_ranges(const TrainerOptions& o) {
  constexpr int64_t kMaxSteps = 1'000'000'000;
  io::check_range("max-steps", o.max_steps, 0, std::numeric_limits<int64_t>::max(),
                  " (0: only the set-up, e.g. the residual vector)");
  io::check_range("rounds", o.rounds, 0, kMaxSteps, " (0: no limit)");
  io::check_range("batch-size", o.batch_size, 1, io::kMaxBatchSize);
  io::check_range("image-size", o.image_size, 16, 8192,
                  " (512 in the papers; rave train --dry-run estimates the memory)");
  io::check_range("guidance-batch-size", o.clip_lit.batch_size, 1, io::kMaxBatchSize);
  io::check_range("guidance-image-size", o.clip_lit.image_size, 16, 8192);
  io::check_range("checkpoint-every", o.checkpoint_every, 1, kMaxSteps);
  io::check_range("sample-every", o.sample_every, 1, kMaxSteps);
  io::check_range("keep-checkpoints", o.keep_checkpoints, 1, 1'000'000);
  io::check_range("reconstruction-steps", o.schedule.reconstruction_steps, 0, kMaxSteps);
  io::check_range("round-steps", o.schedule.round_steps, 1, kMaxSteps);
  io::check_range("guidance-init-steps", o.clip_lit.schedule.init_steps, 0, kMaxSteps);
  io::check_range("refine-steps", o.clip_lit.schedule.refine_steps, 0, kMaxSteps);
  io::check_range("max-extensions", o.schedule.max_extensions, 0, kMaxSteps, " (0: no limit)");
  io::check_range("check-sync-every", o.check_sync_every, 0, kMaxSteps, " (0: never)");
  for (const auto& [flag, value] :
       {std::pair{"lr", o.learning_rate}, {"weight-decay", o.weight_decay}, {"guidance-lr", o.clip_lit.learning_rate},
        {"collective-timeout", o.collective_timeout}}) {
    if (!std::isfinite(value) || value < 0) {
      throw UsageError("--" + std::string(flag) + " " + io::shortest_text(value) + " must be a finite number >= 0");
    }
  }
  for (const auto& [flag, value] : {std::pair{"extension-threshold", o.schedule.extension_threshold},
                                    {"guidance-extension-threshold", o.clip_lit.schedule.extension_threshold}}) {
    if (std::isnan(value)) throw UsageError("--" + std::string(flag) + " must be a number, got nan");
  }
}

int run(const Invocation& invocation) {
  core::install_cpu_block_cache();
  TrainFlags flags = io::read_flags<TrainFlags>(invocation.options);
  TrainerOptions& options = flags.options;
  // One flag bounds the extensions of both kinds of phase.
  options.clip_lit.schedule.max_extensions = options.schedule.max_extensions;
  options.max_steps = flags.max_steps ? *flags.max_steps
                      : options.rounds > 0 ? std::numeric_limits<int64_t>::max()
                                           : options.schedule.reconstruction_steps + 3 * options.schedule.round_steps;
  options.config_ini = invocation.config_ini;
  check_ranges(options);
  return flags.dry_run ? dry_run(*invocation.context, options) : train(*invocation.context, options);
}

}  // namespace

Command train_command() {
  return {"train", "train an enhancer with RAVE, CLIP-LIT or CLIP-LIT-Latent", true, io::declare_flags<TrainFlags>,
          run};
}

}  // namespace rave::launch
