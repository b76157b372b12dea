// rave bench clip-lit: the CLIP-LIT / CLIP-LIT-Latent costs, one of two phases (--phase):
//   init:   the guidance initialisation's image features per second, as `rave train` computes them (each rank's
//           images decoded and resized once, in the first epoch, timed apart; then per step: augmentation, one
//           batched encoder call, one cross-entropy step of the pair) against the reference's per-sample form
//           (every access decodes and resizes the file again, and the encoder sees one image at a time;
//           dataloader_prompt_add).
//   rounds: `rave train` on the same data for rave, clip-lit and clip-lit-latent (warm-up skipped, one guided
//           round and its refinement, short guidance initialisation), timed from metrics.jsonl: seconds per
//           enhancer, initialisation and refinement step, the measured round, the round of the reference
//           schedule (2100 + 1000 steps) from the per-step times, and the time to the published checkpoints'
//           round-2 snapshot (1000 warm-up + 2 x 2100 enhancer steps; CLIP-LIT adds 8000 initialisation and two
//           refinements of 1000 steps) for each method.
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "bench/report.h"
#include "bench/tasks.h"
#include "bench/timing.h"
#include "core/error.h"
#include "dist/context.h"
#include "dist/random.h"
#include "dist/shard_sampler.h"
#include "guidance/encoders.h"
#include "guidance/guidance_datasets.h"
#include "guidance/latent_pair.h"
#include "guidance/losses.h"
#include "io/augment.h"
#include "io/image.h"
#include "io/resize.h"
#include "launch/trainer.h"

namespace rave::bench {
namespace {

namespace fs = std::filesystem;
using io::po::value;

struct Arguments {
  std::string clip, clip_identity, vocab, backlit, welllit, run_dir;
  int64_t batch, steps, round_steps, refine_steps, init_steps, image_size;
};

void declare(io::OptionSet& options) {
  options.flags()
      ("phase", value<std::string>()->default_value("init"), "init or rounds")
      ("clip", value<std::string>(), "guidance encoder (CLIP ViT .pt/.h5)")
      ("clip-identity", value<std::string>(), "rounds: identity encoder (CLIP ResNet .pt/.h5)")
      ("vocab", value<std::string>(), "rounds: CLIP's BPE vocabulary (the CLIP-LIT prompt pair)")
      ("backlit", value<std::string>(), "folder of backlit images")
      ("welllit", value<std::string>(), "folder of well-lit images")
      ("run-dir", value<std::string>()->default_value("/tmp/rave_bench_clip_lit"), "rounds: where the runs go")
      ("batch", value<int64_t>()->default_value(0), "images per step (0: 16 for init, 2 for rounds)")
      ("steps", value<int64_t>()->default_value(10), "init: timed steps after the first epoch")
      ("round-steps", value<int64_t>()->default_value(40), "rounds: enhancer steps of the guided round")
      ("refine-steps", value<int64_t>()->default_value(20), "rounds: refinement steps")
      ("init-steps", value<int64_t>()->default_value(20), "rounds: guidance initialisation steps")
      ("image-size", value<int64_t>()->default_value(128), "rounds: training image side");
}

Arguments arguments(const io::po::variables_map& o) {
  const std::string command = "rave bench clip-lit";
  Arguments a;
  a.clip = io::required_value(o, "clip", command);
  a.backlit = io::required_value(o, "backlit", command);
  a.welllit = io::required_value(o, "welllit", command);
  const bool rounds = o["phase"].as<std::string>() == "rounds";
  if (rounds) {
    a.clip_identity = io::required_value(o, "clip-identity", command + " --phase rounds");
    a.vocab = io::required_value(o, "vocab", command + " --phase rounds");
  }
  a.run_dir = o["run-dir"].as<std::string>();
  a.batch = o["batch"].as<int64_t>() > 0 ? o["batch"].as<int64_t>() : (rounds ? 2 : 16);
  a.steps = o["steps"].as<int64_t>();
  a.round_steps = o["round-steps"].as<int64_t>();
  a.refine_steps = o["refine-steps"].as<int64_t>();
  a.init_steps = o["init-steps"].as<int64_t>();
  a.image_size = o["image-size"].as<int64_t>();
  if (a.steps < 1 || a.round_steps < 1 || a.refine_steps < 1 || a.init_steps < 1 || a.image_size < 32) {
    throw UsageError(command + ": step counts must be positive and --image-size at least 32");
  }
  return a;
}

// One cross-entropy step of a latent pair on unit features (the same arithmetic for both forms).
void cross_entropy_step(guidance::LatentPair& pair, torch::optim::Adam& adam, const torch::Tensor& features,
                        const torch::Tensor& labels) {
  const torch::Tensor loss = guidance::guidance_init_loss(features, labels, pair.vectors());
  adam.zero_grad();
  loss.backward();
  adam.step();
}

nlohmann::ordered_json init(const Arguments& a) {
  auto encoder = guidance::make_guidance_encoder(a.clip);
  io::ImageFolder backlit_folder(a.backlit, io::kTrainingExifOrientation),
      welllit_folder(a.welllit, io::kTrainingExifOrientation);
  guidance::ResizedImages backlit(backlit_folder), welllit(welllit_folder);
  guidance::InitialisationSet set(backlit, welllit, 1);
  guidance::LatentPair pair(encoder->dim());
  torch::optim::Adam adam(pair.named_parameters().values(), torch::optim::AdamOptions(5e-4).weight_decay(1e-3));
  const dist::ShardSampler sampler(set.size(), 0, 1, 2);
  const std::vector<int64_t> order = sampler.shard(0);
  const auto draws_of = [&](int64_t step) {
    std::vector<guidance::ItemDraw> draws;
    for (int64_t i = 0; i < a.batch; ++i) draws.push_back({order[size_t((step * a.batch + i) % set.size())], 0});
    return draws;
  };

  // rave: the first epoch also fills the resize cache (each file decoded and resized once per rank and run, so
  // 5 of the 8,000 steps of the reference schedule on these 80 items); it is timed on its own.
  const auto batched_step = [&](int64_t step) {
    const guidance::InitialisationBatch batch = set.load(draws_of(step));
    cross_entropy_step(pair, adam, guidance::unit_features(*encoder, batch.images, torch::kCPU), batch.labels);
  };
  const int64_t first_epoch_steps = (set.size() + a.batch - 1) / a.batch;
  auto start = Clock::now();
  for (int64_t s = 0; s < first_epoch_steps; ++s) batched_step(s);
  const double first_epoch = seconds_since(start);
  std::vector<double> batched;
  for (int64_t s = first_epoch_steps; s < first_epoch_steps + a.steps; ++s) {
    start = Clock::now();
    batched_step(s);
    batched.push_back(seconds_since(start));
  }

  // The reference: per item open, resize 256 Lanczos, augment, ToTensor, Φv on one image, normalise.
  const int64_t m = int64_t(std::max(backlit_folder.size(), welllit_folder.size()));
  const auto per_sample_step = [&](int64_t step) {
    std::vector<torch::Tensor> features;
    std::vector<int64_t> labels;
    for (const guidance::ItemDraw& draw : draws_of(step)) {
      const bool welllit_item = draw.item >= m;
      io::ImageFolder& folder = welllit_item ? welllit_folder : backlit_folder;
      const size_t index = size_t((welllit_item ? draw.item - m : draw.item) % int64_t(folder.size()));
      torch::Tensor image =
          io::read_image_u8(folder.files()[index].string(), io::kTrainingExifOrientation);
      image = io::resize_pil(image, 256, 256, io::PilFilter::lanczos);
      dist::SplitMix64 rng(uint64_t(draw.item));
      image = io::augment(image, io::draw_augmentation(rng, {0.5, 1.5, false}));
      features.push_back(guidance::unit_features(*encoder, io::to_float_chw(image).unsqueeze(0), torch::kCPU));
      labels.push_back(welllit_item ? 1 : 0);
    }
    cross_entropy_step(pair, adam, torch::cat(features), torch::tensor(labels, torch::kInt64));
  };
  per_sample_step(0);  // warm-up
  std::vector<double> per_sample;
  for (int64_t s = 1; s <= std::max<int64_t>(1, a.steps / 2); ++s) {
    start = Clock::now();
    per_sample_step(s);
    per_sample.push_back(seconds_since(start));
  }
  const double rate = double(a.batch) / median(batched), reference_rate = double(a.batch) / median(per_sample);
  nlohmann::ordered_json j;
  j["bench"] = "clip_lit_init";
  j["encoder"] = encoder->name();
  j["batch"] = a.batch;
  j["rave_seconds_per_step"] = rounded(median(batched), 1e4);
  j["rave_first_epoch_steps"] = first_epoch_steps;
  j["rave_first_epoch_seconds_per_step"] = rounded(first_epoch / double(first_epoch_steps), 1e4);
  j["rave_features_per_s"] = rounded(rate, 10);
  j["reference_form_seconds_per_step"] = rounded(median(per_sample), 1e4);
  j["reference_form_features_per_s"] = rounded(reference_rate, 10);
  j["speedup"] = rounded(rate / reference_rate, 10);
  return j;
}

// Median seconds per step of each stage, from the differences of consecutive "time" values.
std::map<std::string, double> seconds_per_step(const fs::path& metrics, double& total) {
  std::ifstream in(metrics);
  std::map<std::string, std::vector<double>> durations;
  double previous = 0;
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    const double time = j["time"];
    durations[j["stage"]].push_back(time - previous);
    previous = time;
  }
  total = previous;
  std::map<std::string, double> result;
  for (const auto& [stage, values] : durations) result[stage] = median(values);
  return result;
}

nlohmann::ordered_json rounds(const dist::Context& context, const Arguments& a) {
  nlohmann::ordered_json j;
  j["bench"] = "clip_lit_rounds";
  j["image_size"] = a.image_size;
  j["batch"] = a.batch;
  std::map<std::string, double> to_round2;
  for (const std::string method : {"rave", "clip-lit", "clip-lit-latent"}) {
    launch::TrainerOptions o;
    o.method = method;
    o.backlit = a.backlit;
    o.welllit = a.welllit;
    o.clip = a.clip;
    o.clip_identity = a.clip_identity;
    o.clip_lit.vocab = a.vocab;
    o.run_dir = (fs::path(a.run_dir) / method).string();
    fs::remove_all(o.run_dir);
    o.batch_size = a.batch;
    o.image_size = a.image_size;
    o.clip_lit.batch_size = 16;  // the reference's guidance batch
    o.backend = "mpi";
    o.checkpoint_every = 1 << 30;
    o.sample_every = 1 << 30;
    o.schedule.reconstruction_steps = 0;
    o.schedule.round_steps = a.round_steps;
    o.clip_lit.schedule.init_steps = a.init_steps;
    o.clip_lit.schedule.refine_steps = a.refine_steps;
    o.clip_lit.schedule.extension_threshold = 1e30;  // fixed phase lengths: what is timed is known
    o.schedule.extension_threshold = 1e30;
    o.max_steps = a.round_steps + 1;  // the round, its refinement, one step of the next round
    const auto start = Clock::now();
    launch::train(context, o);
    const double wall = seconds_since(start);
    double total = 0;
    const auto per_step = seconds_per_step(fs::path(o.run_dir) / "metrics.jsonl", total);
    const double enhancer = per_step.at("guided");
    const double refine = per_step.count("refinement") ? per_step.at("refinement") : 0.0;
    const double init = per_step.count("guidance-init") ? per_step.at("guidance-init") : 0.0;
    // The run's time outside the metrics lines (set-up, residual pass, intermediate results) is in the wall time.
    nlohmann::ordered_json m;
    m["seconds_per_enhancer_step"] = rounded(enhancer, 1e4);
    if (method != "rave") {
      m["seconds_per_init_step"] = rounded(init, 1e4);
      m["seconds_per_refinement_step"] = rounded(refine, 1e4);
    }
    m["enhancer_steps_per_s"] = rounded(1 / enhancer, 100);
    m["wall_seconds"] = rounded(wall, 100);
    m["round_seconds_measured"] = rounded(a.round_steps * enhancer + a.refine_steps * refine, 100);
    m["round_seconds_2100_1000"] = rounded(2100 * enhancer + 1000 * refine, 10);
    to_round2[method] = 8000 * init + 5200 * enhancer + 2 * 1000 * refine;
    m["seconds_to_round2_snapshot"] = rounded(to_round2[method], 10);
    j[method] = m;
  }
  j["clip_lit_over_rave_to_round2"] = rounded(to_round2["clip-lit"] / to_round2["rave"], 100);
  j["clip_lit_latent_over_rave_to_round2"] = rounded(to_round2["clip-lit-latent"] / to_round2["rave"], 100);
  return j;
}

int run(const launch::Invocation& invocation) {
  const std::string phase = invocation.options["phase"].as<std::string>();
  if (phase != "init" && phase != "rounds") throw UsageError("rave bench clip-lit: --phase is init or rounds");
  const Arguments a = arguments(invocation.options);
  return report(invocation, phase == "init" ? init(a) : rounds(*invocation.context, a));
}

}  // namespace

launch::Command clip_lit_task() {
  return {"clip-lit", "CLIP-LIT guidance initialisation and rounds beside the reference form (JSON)", true, declare,
          run};
}

}  // namespace rave::bench
