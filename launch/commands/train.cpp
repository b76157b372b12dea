// rave train: the three training methods (ARCHITECTURE §4 lists the flags scripts rely on).
#include "launch/commands/all.h"

namespace rave::launch {
namespace {

using io::po::value;

void declare(io::OptionSet& options) {
  options.section("data")
      ("backlit", value<std::string>(), "folder of backlit training images")
      ("welllit", value<std::string>(), "folder of well-lit training images")
      ("image-size", value<int>()->default_value(512), "training resolution (square, Lanczos resize)");
  options.section("train")
      ("method", value<std::string>()->default_value("rave"), "rave, clip-lit or clip-lit-latent")
      ("run-dir", value<std::string>()->default_value("runs/default"), "checkpoints, metrics and samples go here")
      ("max-steps", value<int64_t>(), "stop after this many enhancer steps")
      ("batch-size", value<int>()->default_value(8), "images per rank per step")
      ("seed", value<int64_t>()->default_value(1143), "seed of every random draw")
      ("precision", value<std::string>()->default_value("fp32"), "fp32 or bf16")
      ("backend", value<std::string>()->default_value("auto"), "gradient all-reduce: auto, mpi or nccl")
      ("check-sync-every", value<int64_t>()->default_value(0), "steps between checks that all ranks agree (0: never)")
      ("collective-timeout", value<double>()->default_value(600), "seconds before a stuck collective aborts (0: never)")
      ("resume", value<std::string>()->default_value(""), "auto (newest checkpoint in --run-dir) or a checkpoint path")
      ("checkpoint-every", value<int64_t>()->default_value(1000), "steps between checkpoints")
      ("reconstruction-steps", value<int64_t>(), "reconstruction warm-up steps")
      ("round-steps", value<int64_t>(), "enhancer steps per guided round");
  options.section("guidance")
      ("clip", value<std::string>(), "guidance encoder: CLIP ViT file (.pt or .h5) or 'photometric'")
      ("clip-identity", value<std::string>(), "identity encoder: CLIP RN file (.pt or .h5) or 'pixels'")
      ("vocab", value<std::string>(), "BPE merges file (bpe_simple_vocab_16e6.txt.gz)")
      ("residual", value<std::string>(), "use this residual-vector file instead of computing it")
      ("guidance-init-steps", value<int64_t>(), "guidance initialisation steps (CLIP-LIT methods)")
      ("refine-steps", value<int64_t>(), "guidance refinement steps per round (CLIP-LIT methods)");
}

}  // namespace

Command train_command() { return {"train", "train an enhancer with RAVE, CLIP-LIT or CLIP-LIT-Latent", true, declare}; }

}  // namespace rave::launch
