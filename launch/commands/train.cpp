// rave train: the training methods (ARCHITECTURE §4 lists the flags scripts rely on).
#include <cmath>
#include <limits>
#include <utility>

#include "dist/cpu_block_cache.h"
#include "dist/error.h"
#include "launch/commands/all.h"
#include "launch/commands/exif_option.h"
#include "launch/dry_run.h"
#include "launch/trainer.h"

namespace rave::launch {
namespace {

using io::po::value;

// Every flag's default is the field's own in TrainerOptions (launch/trainer.h) and the structs it holds, so that
// each exists once: tests that build the options get the defaults users get.
const TrainerOptions kDefaults;

void declare(io::OptionSet& options) {
  options.flags()
      ("dry-run", io::po::bool_switch(),
       "check the configuration (paths, encoders, --resume, --run-dir), time a few steps and estimate the peak "
       "memory per rank; writes nothing");
  options.section("data")
      ("backlit", value<std::string>(), "folder of backlit training images")
      ("welllit", value<std::string>(), "folder of well-lit images (RAVE: the positive set of the residual vector)")
      ("image-size", value<int64_t>()->default_value(kDefaults.image_size),
       "training resolution (square, Lanczos resize)")
      ("loader-threads", value<int>()->default_value(kDefaults.loader_threads), "image decoding threads per rank")
      ("loader-cache-mib", value<int64_t>()->default_value(kDefaults.loader_cache_mib),
       "MiB of resized training images each rank keeps in memory instead of decoding them again (0: none)");
  declare_exif_option(options.section("data"), kDefaults.exif);
  options.section("train")
      ("method", value<std::string>()->default_value(kDefaults.method), "rave, clip-lit or clip-lit-latent")
      ("run-dir", value<std::string>()->default_value(kDefaults.run_dir), "checkpoints, metrics and samples go here")
      ("max-steps", value<int64_t>(), "stop after this many enhancer steps (default: warm-up + 3 rounds)")
      ("rounds", value<int64_t>()->default_value(kDefaults.rounds),
       "also stop when this guided round ends, extensions included (0: no limit)")
      ("batch-size", value<int64_t>()->default_value(kDefaults.batch_size), "images per rank per step")
      ("seed", value<int64_t>()->default_value(int64_t(kDefaults.seed)), "seed of every random draw")
      ("precision", value<std::string>()->default_value(models::to_string(kDefaults.precision)),
       "fp32, or bf16: forward passes under autocast (weights, Adam, losses fp32)")
      ("lr", io::real_value(kDefaults.learning_rate), "Adam learning rate of the enhancer")
      ("weight-decay", io::real_value(kDefaults.weight_decay), "Adam (coupled, L2) weight decay")
      ("backend", value<std::string>()->default_value(kDefaults.backend), "gradient all-reduce: auto, mpi or nccl")
      ("check-sync-every", value<int64_t>()->default_value(kDefaults.check_sync_every),
       "steps between checks that all ranks agree (0: never)")
      ("collective-timeout", io::real_value(kDefaults.collective_timeout),
       "seconds before a stuck collective aborts (0: never)")
      ("resume", value<std::string>()->default_value(kDefaults.resume),
       "auto (newest checkpoint in --run-dir) or a checkpoint path")
      ("allow-world-size-change", io::po::bool_switch(),
       "resume a checkpoint written by another number of ranks (the data is re-sharded; the run leaves the "
       "uninterrupted trajectory)")
      ("checkpoint-every", value<int64_t>()->default_value(kDefaults.checkpoint_every), "steps between checkpoints")
      ("keep-checkpoints", value<int>()->default_value(kDefaults.keep_checkpoints),
       "periodic checkpoints kept (best_round<r>.h5 always kept)")
      ("sample-every", value<int64_t>()->default_value(kDefaults.sample_every),
       "steps between sample grids (input | enhanced | light map)")
      ("reconstruction-steps", value<int64_t>()->default_value(kDefaults.schedule.reconstruction_steps),
       "reconstruction warm-up steps")
      ("round-steps", value<int64_t>()->default_value(kDefaults.schedule.round_steps),
       "enhancer steps per guided round")
      ("extension-threshold", io::real_value(kDefaults.schedule.extension_threshold),
       "extend a guided round by 60 steps while its last step's guidance + 0.9 identity loss exceeds this")
      ("max-extensions", value<int64_t>()->default_value(kDefaults.schedule.max_extensions),
       "extensions a guided round or a guidance phase gets at most before it ends anyway (0: no limit, as the "
       "reference)");
  options.section("guidance")
      ("clip", value<std::string>(), "guidance encoder: CLIP ViT file (.pt or .h5) or 'photometric'")
      ("clip-identity", value<std::string>(), "identity encoder: CLIP RN file (.pt or .h5) or 'pixels'")
      ("vocab", value<std::string>(), "BPE merges file (bpe_simple_vocab_16e6.txt.gz; CLIP-LIT methods)")
      ("residual", value<std::string>(), "use this residual-vector file instead of computing it")
      ("guidance-init-steps", value<int64_t>()->default_value(kDefaults.clip_lit.schedule.init_steps),
       "guidance initialisation steps (CLIP-LIT methods)")
      ("refine-steps", value<int64_t>()->default_value(kDefaults.clip_lit.schedule.refine_steps),
       "guidance refinement steps per round (CLIP-LIT methods)")
      ("guidance-batch-size", value<int64_t>()->default_value(kDefaults.clip_lit.batch_size),
       "guidance images (or tuples) per rank per step")
      ("guidance-image-size", value<int64_t>()->default_value(kDefaults.clip_lit.image_size),
       "side of the guidance images and intermediate results")
      ("guidance-lr", io::real_value(kDefaults.clip_lit.learning_rate),
       "Adam learning rate of the pair (0: 5e-6 clip-lit, 5e-4 latent)")
      ("guidance-extension-threshold", io::real_value(kDefaults.clip_lit.schedule.extension_threshold),
       "extend a guidance phase by 100 steps while its last step's loss exceeds this (CLIP-LIT methods)");
}

std::string text(const io::po::variables_map& values, const std::string& name) {
  return values.count(name) ? values[name].as<std::string>() : std::string();
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
  dist::install_cpu_block_cache();
  const auto& v = invocation.options;
  TrainerOptions options;
  options.precision = models::parse_precision(text(v, "precision"));
  options.method = text(v, "method");
  options.backlit = text(v, "backlit");
  options.welllit = text(v, "welllit");
  options.exif = exif_option(v);
  options.run_dir = text(v, "run-dir");
  options.batch_size = v["batch-size"].as<int64_t>();
  options.image_size = v["image-size"].as<int64_t>();
  options.loader_threads = v["loader-threads"].as<int>();
  options.loader_cache_mib = v["loader-cache-mib"].as<int64_t>();
  options.seed = uint64_t(v["seed"].as<int64_t>());
  options.learning_rate = v["lr"].as<double>();
  options.weight_decay = v["weight-decay"].as<double>();
  options.backend = text(v, "backend");
  options.check_sync_every = v["check-sync-every"].as<int64_t>();
  options.collective_timeout = v["collective-timeout"].as<double>();
  options.resume = text(v, "resume");
  options.allow_world_size_change = v["allow-world-size-change"].as<bool>();
  options.checkpoint_every = v["checkpoint-every"].as<int64_t>();
  options.keep_checkpoints = v["keep-checkpoints"].as<int>();
  options.sample_every = v["sample-every"].as<int64_t>();
  options.schedule.reconstruction_steps = v["reconstruction-steps"].as<int64_t>();
  options.schedule.round_steps = v["round-steps"].as<int64_t>();
  options.schedule.extension_threshold = v["extension-threshold"].as<double>();
  options.schedule.max_extensions = options.clip_lit.schedule.max_extensions = v["max-extensions"].as<int64_t>();
  options.rounds = v["rounds"].as<int64_t>();
  // Without --max-steps: warm-up + 3 rounds, or no step limit when --rounds says where to stop.
  options.max_steps = v.count("max-steps") ? v["max-steps"].as<int64_t>()
                      : options.rounds > 0 ? std::numeric_limits<int64_t>::max()
                                           : options.schedule.reconstruction_steps + 3 * options.schedule.round_steps;
  options.clip = text(v, "clip");
  options.clip_identity = text(v, "clip-identity");
  options.residual = text(v, "residual");
  options.clip_lit.vocab = text(v, "vocab");
  options.clip_lit.schedule.init_steps = v["guidance-init-steps"].as<int64_t>();
  options.clip_lit.schedule.refine_steps = v["refine-steps"].as<int64_t>();
  options.clip_lit.batch_size = v["guidance-batch-size"].as<int64_t>();
  options.clip_lit.image_size = v["guidance-image-size"].as<int64_t>();
  options.clip_lit.learning_rate = v["guidance-lr"].as<double>();
  options.clip_lit.schedule.extension_threshold = v["guidance-extension-threshold"].as<double>();
  options.config_ini = invocation.config_ini;
  check_ranges(options);
  return v["dry-run"].as<bool>() ? dry_run(*invocation.context, options) : train(*invocation.context, options);
}

}  // namespace

Command train_command() {
  return {"train", "train an enhancer with RAVE, CLIP-LIT or CLIP-LIT-Latent", true, declare, run};
}

}  // namespace rave::launch
