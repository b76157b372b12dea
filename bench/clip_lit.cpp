// CLIP-LIT / CLIP-LIT-Latent benchmarks (issue #7). Prints one JSON object.
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
//   bench_clip_lit init --clip FILE --backlit DIR --welllit DIR [--batch 16] [--steps 10] [--threads 0]
//   bench_clip_lit rounds --clip FILE --clip-identity FILE --vocab FILE --backlit DIR --welllit DIR
//                  [--round-steps 40] [--refine-steps 20] [--init-steps 20] [--image-size 128] [--batch 2]
//                  [--run-dir DIR]
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "bench/task_main.h"
#include "bench/timing.h"
#include "dist/context.h"
#include "dist/error.h"
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

namespace {

namespace fs = std::filesystem;
namespace guidance = rave::guidance;
using rave::bench::Clock;
using rave::bench::median;
using rave::bench::rounded;
using rave::bench::seconds_since;

struct Arguments {
  std::string task, clip, clip_identity, vocab, backlit, welllit, run_dir = "/tmp/bench_clip_lit";
  int64_t threads = 0, batch = 16, steps = 10, round_steps = 40, refine_steps = 20, init_steps = 20, image_size = 128;
};

Arguments parse(int argc, char** argv) {
  Arguments a;
  if (argc < 2) {
    throw rave::UsageError("usage: bench_clip_lit init|rounds [flags]", "see the top of bench/clip_lit.cpp");
  }
  a.task = argv[1];
  if (a.task == "rounds") a.batch = 2;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--clip") a.clip = value;
    else if (flag == "--clip-identity") a.clip_identity = value;
    else if (flag == "--vocab") a.vocab = value;
    else if (flag == "--backlit") a.backlit = value;
    else if (flag == "--welllit") a.welllit = value;
    else if (flag == "--run-dir") a.run_dir = value;
    else if (flag == "--threads") a.threads = std::atoll(value.c_str());
    else if (flag == "--batch") a.batch = std::atoll(value.c_str());
    else if (flag == "--steps") a.steps = std::atoll(value.c_str());
    else if (flag == "--round-steps") a.round_steps = std::atoll(value.c_str());
    else if (flag == "--refine-steps") a.refine_steps = std::atoll(value.c_str());
    else if (flag == "--init-steps") a.init_steps = std::atoll(value.c_str());
    else if (flag == "--image-size") a.image_size = std::atoll(value.c_str());
    else throw rave::UsageError("bench_clip_lit: unknown flag " + flag, "see the top of bench/clip_lit.cpp");
  }
  if (a.clip.empty() || a.backlit.empty() || a.welllit.empty()) {
    throw rave::UsageError("bench_clip_lit needs --clip, --backlit and --welllit", "bench/clip_lit.sh passes them");
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
  rave::dist::Context context(nullptr, nullptr, {"cpu", int(a.threads)});  // 0: as many as `rave train` uses
  auto encoder = guidance::make_guidance_encoder(a.clip);
  rave::io::ImageFolder backlit_folder(a.backlit, rave::io::kTrainingExifOrientation),
      welllit_folder(a.welllit, rave::io::kTrainingExifOrientation);
  guidance::ResizedImages backlit(backlit_folder), welllit(welllit_folder);
  guidance::InitialisationSet set(backlit, welllit, 1);
  guidance::LatentPair pair(encoder->dim());
  torch::optim::Adam adam(pair.named_parameters().values(), torch::optim::AdamOptions(5e-4).weight_decay(1e-3));
  const rave::dist::ShardSampler sampler(set.size(), 0, 1, 2);
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
      rave::io::ImageFolder& folder = welllit_item ? welllit_folder : backlit_folder;
      const size_t index = size_t((welllit_item ? draw.item - m : draw.item) % int64_t(folder.size()));
      torch::Tensor image =
          rave::io::read_image_u8(folder.files()[index].string(), rave::io::kTrainingExifOrientation);
      image = rave::io::resize_pil(image, 256, 256, rave::io::PilFilter::lanczos);
      rave::dist::SplitMix64 rng(uint64_t(draw.item));
      image = rave::io::augment(image, rave::io::draw_augmentation(rng, {0.5, 1.5, false}));
      features.push_back(guidance::unit_features(*encoder, rave::io::to_float_chw(image).unsqueeze(0), torch::kCPU));
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
  j["threads"] = torch::get_num_threads();
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

nlohmann::ordered_json rounds(const Arguments& a) {
  if (a.clip_identity.empty() || a.vocab.empty()) {
    throw rave::UsageError("bench_clip_lit rounds needs --clip-identity and --vocab");
  }
  rave::dist::Context context(nullptr, nullptr, {"cpu", 0});
  nlohmann::ordered_json j;
  j["bench"] = "clip_lit_rounds";
  j["world_size"] = context.world_size();
  j["threads"] = torch::get_num_threads();
  j["image_size"] = a.image_size;
  j["batch"] = a.batch;
  std::map<std::string, double> to_round2;
  for (const std::string method : {"rave", "clip-lit", "clip-lit-latent"}) {
    rave::launch::TrainerOptions o;
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
    rave::launch::train(context, o);
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

}  // namespace

int main(int argc, char** argv) {
  return rave::bench::task_main<Arguments>("bench_clip_lit", argc, argv, parse, {{"init", init}, {"rounds", rounds}});
}
