// rave bench smoke: the correctness checks that a new machine (above all a GPU one) must pass before its numbers
// mean anything, each a JSON entry with its result ("pass", "fail" or "skipped" with the reason); the exit code is
// 1 when any check fails. On a machine without CUDA the CUDA-only checks are skipped and the rest run on the CPU
// (CI runs it so). All models are the tiny random ones of step_models.h; the data are synthetic scenes.
//   device_auto      --device auto resolves to cuda:0 where CUDA is available, else to the CPU
//   step_on_device   after one training step every parameter, gradient and Adam state is on the device
//   cuda_equals_cpu  the fp32 step on the GPU equals the CPU step (TF32 off): loss and gradients within 1e-4
//   bf16_vs_fp32     the bf16 step's loss within 2e-2 of the fp32 step's, its gradients float32
//   collectives      a world-1 communicator: all-reduce and broadcast of float32/float64/int64 on the device
//                    and on the host, and a tensor made by a long kernel chain read correctly afterwards
//   reducer          the gradient reducer leaves a world-1 rank's gradients unchanged
//   residual         the residual pass (rave residual's) on the device: a finite unit vector from every image
//   train            a 3-step rave train (1 warm-up, 2 guided) on the device: a checkpoint and 3 metrics lines
#include <ATen/Context.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "bench/report.h"
#include "bench/step_models.h"
#include "bench/tasks.h"
#include "dist/communicator.h"
#include "guidance/residual_pass.h"
#include "io/synth_scenes.h"
#include "launch/optimizer_state.h"
#include "launch/trainer.h"
#include "models/clip/loader.h"

namespace rave::bench {
namespace {

namespace fs = std::filesystem;

// A check's outcome: passed, or the reason it failed; `skipped` when it does not apply to this machine.
struct Outcome {
  bool passed = true;
  std::string detail;
  bool skipped = false;
};

Outcome fail(std::string why) { return {false, std::move(why)}; }
Outcome skip(std::string why) { return {true, std::move(why), true}; }

double relative_difference(const torch::Tensor& a, const torch::Tensor& b) {
  const torch::Tensor x = a.detach().cpu().to(torch::kFloat64), y = b.detach().cpu().to(torch::kFloat64);
  return ((x - y).abs().max() / y.abs().max().clamp_min(1e-30)).item<double>();
}

std::string number(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

class Smoke {
 public:
  explicit Smoke(const launch::Invocation& invocation)
      : invocation_(invocation),
        context_(*invocation.context),
        device_(context_.device()),
        communicator_(dist::make_communicator(context_, "auto")),
        scratch_(fs::temp_directory_path() / ("rave-smoke-" + std::to_string(::getpid()))) {}
  ~Smoke() {
    std::error_code ignored;
    fs::remove_all(scratch_, ignored);
  }

  int run() {
    check("device_auto", [&] { return device_auto(); });
    check("step_on_device", [&] { return step_on_device(); });
    check("cuda_equals_cpu", [&] { return cuda_equals_cpu(); });
    check("bf16_vs_fp32", [&] { return bf16_vs_fp32(); });
    check("collectives", [&] { return collectives(); });
    check("reducer", [&] { return reducer(); });
    check("residual", [&] { return residual(); });
    check("train", [&] { return train(); });
    nlohmann::ordered_json j;
    j["bench"] = "smoke";
    j["backend"] = communicator_->backend();
    j["passed"] = passed_;
    j["failed"] = failed_;
    j["skipped"] = skipped_;
    j["checks"] = checks_;
    report(invocation_, j);
    return failed_ > 0 ? 1 : 0;
  }

 private:
  void check(const std::string& name, const std::function<Outcome()>& body) {
    Outcome outcome;
    try {
      outcome = body();
    } catch (const std::exception& e) {  // a check that throws has failed; the others still run
      outcome = fail(std::string("threw: ") + e.what());
    }
    const char* result = outcome.skipped ? "skipped" : outcome.passed ? "pass" : "fail";
    (outcome.skipped ? skipped_ : outcome.passed ? passed_ : failed_)++;
    checks_.push_back({{"name", name}, {"result", result}, {"detail", outcome.detail}});
  }

  // The random embeddings' cosine with the vector is about 0.15: tau -0.3 keeps (cos - tau)^2 far from its zero,
  // where any rounding is a large relative error of the loss, so that bf16_vs_fp32 measures bf16, not that.
  StepModels models(const torch::Device& device) {
    return make_step_models("tiny", 2, 64, device, *communicator_, kStepSeed, -0.3);
  }

  // One guided training step of `m`; its loss.
  double step_loss(StepModels& m, models::Precision precision) {
    return launch::training_step(m.parts(*communicator_, precision), m.x, false).loss;
  }

  Outcome device_auto() {
    const std::string asked = invocation_.options["device"].as<std::string>();
    if (asked != "auto") return skip("--device " + asked + " was given");
    const std::string expected = torch::cuda::is_available() ? "cuda:0" : "cpu";
    if (device_.str() != expected) return fail("resolved to " + device_.str() + ", expected " + expected);
    return {true, "auto -> " + device_.str()};
  }

  Outcome step_on_device() {
    StepModels m = models(device_);
    step_loss(m, models::Precision::kFloat32);
    for (const auto& p : m.enhancer->named_parameters()) {
      if (p.value().device() != device_) return fail("parameter " + p.key() + " is on " + p.value().device().str());
      if (!p.value().grad().defined() || p.value().grad().device() != device_) {
        return fail("the gradient of " + p.key() + " is missing or not on " + device_.str());
      }
    }
    const launch::NamedTensors state = launch::adam_state(*m.optimizer, m.enhancer->named_parameters());
    for (const auto& [name, tensor] : state) {
      if (name.rfind("step/", 0) != 0 && tensor.device() != device_) return fail("Adam's " + name + " is elsewhere");
    }
    return {true, std::to_string(state.size()) + " Adam tensors and every parameter and gradient on " + device_.str()};
  }

  Outcome cuda_equals_cpu() {
    if (!device_.is_cuda()) return skip("no CUDA device");
    // TF32 would round the GPU's float32 products to 10-bit mantissas: off, the two steps compute the same sums.
    at::globalContext().setAllowTF32CuBLAS(false);
    at::globalContext().setAllowTF32CuDNN(false);
    StepModels gpu = models(device_), cpu = models(torch::kCPU);
    const double gpu_loss = step_loss(gpu, models::Precision::kFloat32);
    const double cpu_loss = step_loss(cpu, models::Precision::kFloat32);
    const double loss_difference = std::abs(gpu_loss - cpu_loss) / std::abs(cpu_loss);
    double gradient_difference = 0;
    const auto cpu_parameters = cpu.enhancer->named_parameters();
    for (const auto& p : gpu.enhancer->named_parameters()) {
      gradient_difference =
          std::max(gradient_difference, relative_difference(p.value().grad(), cpu_parameters[p.key()].grad()));
    }
    const std::string detail = "loss " + number(loss_difference) + ", gradients " + number(gradient_difference);
    if (loss_difference >= 1e-4 || gradient_difference >= 1e-4) return fail(detail + " (limit 1e-4)");
    return {true, detail};
  }

  Outcome bf16_vs_fp32() {
    StepModels fp32 = models(device_), bf16 = models(device_);
    const double fp32_loss = step_loss(fp32, models::Precision::kFloat32);
    const double bf16_loss = step_loss(bf16, models::Precision::kBFloat16);
    const double difference = std::abs(bf16_loss - fp32_loss) / std::abs(fp32_loss);
    for (const auto& p : bf16.enhancer->parameters()) {
      if (p.grad().scalar_type() != torch::kFloat32) return fail("a bf16 step's gradient is not float32");
    }
    const std::string detail = "relative loss difference " + number(difference);
    if (!(difference < 2e-2)) return fail(detail + " (limit 2e-2)");
    return {true, detail};
  }

  Outcome collectives() {
    int checked = 0;
    for (const torch::Device& where : {device_, torch::Device(torch::kCPU)}) {
      for (const auto type : {torch::kFloat32, torch::kFloat64, torch::kInt64}) {
        const torch::Tensor expected = torch::arange(1000, torch::TensorOptions().dtype(type));
        torch::Tensor tensor = expected.to(where);
        communicator_->all_reduce_sum(tensor);  // one rank: the sum is the tensor itself
        communicator_->broadcast(tensor, 0);
        if (!torch::equal(tensor.cpu(), expected)) {
          return fail(std::string("all-reduce/broadcast changed a ") + c10::toString(type) + " tensor on " +
                      where.str());
        }
        ++checked;
      }
    }
    // Stream order: the collective must see the chain's result, and what is read after it the collective's.
    torch::Tensor chain = torch::ones({1 << 22}, torch::TensorOptions().device(device_));
    for (int i = 0; i < 200; ++i) chain = chain * 1.001 - 0.001;  // stays 1 in exact arithmetic
    const torch::Tensor before = chain.clone();
    communicator_->all_reduce_sum(chain);
    if (!torch::equal(chain.cpu(), before.cpu())) return fail("a tensor from a 200-kernel chain read back wrong");
    return {true, std::to_string(checked) + " tensors and a 200-kernel chain through " + communicator_->backend()};
  }

  Outcome reducer() {
    StepModels m = models(device_);
    m.enhancer->zero_grad();
    m.enhancer->forward(m.x).mean().backward();
    std::vector<torch::Tensor> before;
    for (const auto& p : m.enhancer->parameters()) before.push_back(p.grad().clone());
    m.reducer->reduce();
    const auto parameters = m.enhancer->parameters();
    for (size_t i = 0; i < parameters.size(); ++i) {
      if (!torch::equal(parameters[i].grad(), before[i])) return fail("reduce() changed a world-1 gradient");
    }
    return {true, std::to_string(parameters.size()) + " gradients unchanged"};
  }

  // Synthetic scenes and the tiny encoders as files, for the residual pass and the training run.
  void write_inputs() {
    if (fs::exists(scratch_ / "vit.h5")) return;
    io::SynthOptions scenes;
    scenes.out = scratch_ / "scenes";
    scenes.count = 8;
    scenes.size = 64;
    io::write_scene_set(scenes);
    StepModels m = models(torch::kCPU);
    models::write_clip_state((scratch_ / "vit.h5").string(), *m.vit, "rave bench smoke: tiny random ViT");
    models::write_clip_state((scratch_ / "resnet.h5").string(), *m.resnet, "rave bench smoke: tiny random ResNet");
  }

  Outcome residual() {
    write_inputs();
    auto encoder = guidance::make_guidance_encoder((scratch_ / "vit.h5").string());
    encoder->to(device_);
    io::ImageFolder backlit(scratch_ / "scenes/train/backlit", io::kTrainingExifOrientation);
    io::ImageFolder welllit(scratch_ / "scenes/train/welllit", io::kTrainingExifOrientation);
    guidance::ResidualPassOptions options;
    options.device = device_;
    options.show_progress = false;
    const guidance::ResidualVector vector =
        guidance::compute_residual(*encoder, backlit, welllit, *communicator_, options);
    const double norm = vector.residual.norm().item<double>();
    const std::string detail = std::to_string(vector.n_pos + vector.n_neg) + " images, |r| = " + number(norm);
    if (vector.n_pos != int64_t(welllit.size()) || vector.n_neg != int64_t(backlit.size())) {
      return fail(detail + ": not every image was embedded");
    }
    if (!(std::abs(norm - 1) < 1e-5)) return fail(detail + ": not a unit vector");
    return {true, detail};
  }

  Outcome train() {
    write_inputs();
    launch::TrainerOptions o;
    o.backlit = (scratch_ / "scenes/train/backlit").string();
    o.welllit = (scratch_ / "scenes/train/welllit").string();
    o.clip = (scratch_ / "vit.h5").string();
    o.clip_identity = (scratch_ / "resnet.h5").string();
    o.run_dir = (scratch_ / "run").string();
    o.max_steps = 3;
    o.batch_size = 2;
    o.image_size = 64;
    o.schedule.reconstruction_steps = 1;
    o.sample_every = 1000;
    const int code = launch::train(context_, o);
    std::ifstream metrics(scratch_ / "run/metrics.jsonl");
    int64_t lines = 0;
    for (std::string line; std::getline(metrics, line);) ++lines;
    const bool checkpoint = fs::exists(scratch_ / "run/checkpoints");
    const std::string detail = "exit " + std::to_string(code) + ", " + std::to_string(lines) + " metrics lines";
    if (code != 0 || lines != 3 || !checkpoint) {
      return fail(detail + ", checkpoint folder " + (checkpoint ? "" : "not ") + "written");
    }
    return {true, detail};
  }

  const launch::Invocation& invocation_;
  const dist::Context& context_;
  const torch::Device device_;
  std::unique_ptr<dist::Communicator> communicator_;
  fs::path scratch_;
  nlohmann::ordered_json checks_ = nlohmann::ordered_json::array();
  int passed_ = 0, failed_ = 0, skipped_ = 0;
};

int run(const launch::Invocation& invocation) { return Smoke(invocation).run(); }

void declare(io::OptionSet&) {}

}  // namespace

launch::Command smoke_task() {
  return {"smoke", "correctness checks of this machine and build, CUDA ones where CUDA is (JSON)", true, declare,
          run};
}

}  // namespace rave::bench
