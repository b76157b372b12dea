// RAVE training benchmarks (bench/compare.sh runs them beside the PyTorch eager baseline bench/rave_reference.py):
//   step:     one enhancer training step the way `rave train` takes it (Trainer::step in launch/trainer.cpp, on one
//             rank): enhancer -> E -> RAVE guidance loss on the ViT-B/32 embedding of E and the identity loss on
//             RN101's five taps (input branch without autograd) -> 6 G + 0.9 L_id -> backward -> Adam, on random
//             images, with full-size random-weight (frozen) encoders. --precision bf16 runs the forward passes
//             under autocast with float32 weights, Adam and losses, as `rave train --precision bf16` does.
//             Seconds per step (wall clock, and CPU time of all threads): the medians of --iters steps after
//             one warm-up step.
//   residual: guidance::compute_residual (the residual pass of `rave residual` and `rave train`) over two folders
//             with a random-weight ViT-B/32; images/s. The weights and the vector are written to
//             PREFIX.state.h5 / PREFIX.residual.h5 so that the baseline can run the reference procedure (one image
//             at a time) with the same weights and compare the vectors.
// Prints one JSON object.
//   bench_rave step [--precision fp32|bf16] [--batch 2] [--size 256] [--iters 3] [--threads 0]
//   bench_rave residual --backlit DIR --welllit DIR --out PREFIX [--threads 0]
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/task_main.h"
#include "bench/timing.h"
#include "dist/communicator.h"
#include "dist/context.h"
#include "dist/cpu_block_cache.h"
#include "dist/error.h"
#include "guidance/clip_encoders.h"
#include "guidance/losses.h"
#include "guidance/rave_guidance.h"
#include "guidance/residual_file.h"
#include "guidance/residual_pass.h"
#include "models/clip/loader.h"
#include "models/enhancer.h"

namespace {

using rave::bench::Clock;
using rave::bench::cpu_seconds;
using rave::bench::median;
using rave::bench::rounded;
using rave::bench::seconds_since;
using rave::models::ClipConfig;
using rave::models::ClipModel;
namespace guidance = rave::guidance;
namespace models = rave::models;

struct Arguments {
  std::string task, precision = "fp32", backlit, welllit, out;
  int64_t batch = 2, size = 256, iters = 3, threads = 0;
};

Arguments parse(int argc, char** argv) {
  Arguments a;
  if (argc < 2) throw rave::UsageError("usage: bench_rave step|residual [flags]", "see the top of bench/rave.cpp");
  a.task = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--precision") a.precision = value;
    else if (flag == "--backlit") a.backlit = value;
    else if (flag == "--welllit") a.welllit = value;
    else if (flag == "--out") a.out = value;
    else if (flag == "--batch") a.batch = std::atoll(value.c_str());
    else if (flag == "--size") a.size = std::atoll(value.c_str());
    else if (flag == "--iters") a.iters = std::atoll(value.c_str());
    else if (flag == "--threads") a.threads = std::atoll(value.c_str());
    else throw rave::UsageError("bench_rave: unknown flag " + flag, "see the top of bench/rave.cpp");
  }
  return a;
}

// Encoder outputs as float32 (CLIP returns float32 already; the cast is a no-op then).
std::vector<torch::Tensor> float32(std::vector<torch::Tensor> taps) {
  for (auto& tap : taps) tap = tap.to(torch::kFloat32);
  return taps;
}

nlohmann::ordered_json step(const Arguments& a) {
  const models::Precision precision = models::parse_precision(a.precision);
  torch::manual_seed(0);
  guidance::ClipGuidanceEncoder guidance_encoder(ClipModel(ClipConfig::vit_b32()), "random ViT-B/32");
  guidance::ClipIdentityEncoder identity_encoder(ClipModel(ClipConfig::rn101()), "random RN101");
  models::Enhancer enhancer(models::EnhancerOptions().cond_padding(torch::kZeros));
  torch::optim::Adam adam(enhancer->parameters(),
                          torch::optim::AdamOptions(2e-5).betas({0.9, 0.999}).eps(1e-8).weight_decay(1e-3));
  guidance::ResidualVector vector;
  const torch::Tensor direction = torch::randn({512});
  vector.residual = direction / direction.norm();
  vector.tau = 0.2;
  guidance::RaveGuidance rave(vector);
  const torch::Tensor x = torch::rand({a.batch, 3, a.size, a.size});
  const c10::Device device = x.device();

  std::vector<double> losses;
  auto one_step = [&] {
    torch::Tensor light;
    std::vector<torch::Tensor> input_taps, enhanced_taps;
    torch::Tensor embeddings;
    {
      models::AutocastGuard autocast(precision, device);
      light = enhancer->forward(x).to(torch::kFloat32);
    }
    const torch::Tensor enhanced = models::apply_light_map(x, light);
    {
      models::AutocastGuard autocast(precision, device);
      {
        torch::NoGradGuard no_grad;
        input_taps = float32(identity_encoder.taps(x));
      }
      enhanced_taps = float32(identity_encoder.taps(enhanced));
      embeddings = guidance_encoder.embed(enhanced).to(torch::kFloat32);
    }
    const torch::Tensor identity =
        guidance::kIdentityLossWeight * guidance::identity_distance(enhanced_taps, input_taps, guidance::kIdentityWeights);
    // 6 G + 0.9 L_id (ALGORITHMS §4.2.2), as the trainer's guided steps.
    const torch::Tensor loss = rave.loss_weight() * rave.loss(embeddings) + 0.9 * identity;
    adam.zero_grad();
    loss.backward();
    adam.step();
    losses.push_back(loss.item<double>());
  };
  one_step();  // warm-up: first-touch allocations, oneDNN primitive creation
  std::vector<double> times, cpu_times;
  for (int64_t i = 0; i < a.iters; ++i) {
    const auto start = Clock::now();
    const double cpu_start = cpu_seconds();
    one_step();
    times.push_back(seconds_since(start));
    cpu_times.push_back(cpu_seconds() - cpu_start);
  }
  nlohmann::ordered_json j;
  j["bench"] = "rave_step";
  j["impl"] = "rave";
  j["form"] = "batched";
  j["precision"] = a.precision;
  j["batch"] = a.batch;
  j["size"] = a.size;
  j["iters"] = a.iters;
  j["threads"] = torch::get_num_threads();
  j["first_loss"] = losses.front();
  j["seconds_per_step"] = rounded(median(times), 1e4);
  j["cpu_seconds_per_step"] = rounded(median(cpu_times), 1e4);
  j["images_per_s"] = rounded(double(a.batch) / median(times), 1e3);
  return j;
}

nlohmann::ordered_json residual(const Arguments& a) {
  if (a.backlit.empty() || a.welllit.empty() || a.out.empty()) {
    throw rave::UsageError("bench_rave residual needs --backlit, --welllit and --out");
  }
  rave::dist::Context context(nullptr, nullptr, {"cpu", int(a.threads)});
  const auto communicator = rave::dist::make_communicator(context, "mpi");
  torch::manual_seed(0);
  ClipModel model(ClipConfig::vit_b32());
  rave::models::write_clip_state(a.out + ".state.h5", *model, "bench_rave random ViT-B/32 (seed 0)");
  guidance::ClipGuidanceEncoder encoder(model, "random ViT-B/32");
  rave::io::ImageFolder backlit(a.backlit, rave::io::kTrainingExifOrientation),
      welllit(a.welllit, rave::io::kTrainingExifOrientation);
  {
    torch::NoGradGuard no_grad;
    encoder.encode(torch::randn({1, 3, 224, 224}));  // warm-up, as the baseline's
  }
  guidance::ResidualPassOptions options;
  options.show_progress = false;
  const auto start = Clock::now();
  guidance::ResidualFile file;
  file.vector = guidance::compute_residual(encoder, backlit, welllit, *communicator, options);
  const double seconds = seconds_since(start);
  file.encoder = encoder.name();
  for (const auto& f : backlit.files()) file.backlit_files.push_back(f.filename().string());
  for (const auto& f : welllit.files()) file.welllit_files.push_back(f.filename().string());
  file.note = "bench_rave residual";
  guidance::write_residual_file(a.out + ".residual.h5", file);

  const int64_t images = file.vector.n_pos + file.vector.n_neg;
  nlohmann::ordered_json j;
  j["bench"] = "rave_residual";
  j["impl"] = "rave";
  j["procedure"] = "guidance::compute_residual, batch " + std::to_string(options.batch_size);
  j["images"] = images;
  j["threads"] = torch::get_num_threads();
  j["seconds"] = rounded(seconds, 1e4);
  j["images_per_s"] = rounded(double(images) / seconds, 100);
  j["tau"] = file.vector.tau;
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  const auto prepare = [](const Arguments& a) {
    if (a.threads > 0) torch::set_num_threads(int(a.threads));
    rave::dist::install_cpu_block_cache();  // as `rave train` and `rave residual` do
  };
  return rave::bench::task_main<Arguments>("bench_rave", argc, argv, parse, {{"step", step}, {"residual", residual}},
                                           prepare);
}
