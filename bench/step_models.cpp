#include "bench/step_models.h"

#include "core/error.h"
#include "io/h5.h"
#include "launch/optimizer_state.h"

namespace rave::bench {
namespace {

using models::ClipConfig;

// Two transformer layers of width 64 (one head) and a ModifiedResNet of width 16 with one block per stage:
// every kind of layer of the full models, at a size a test runs in a second.
ClipConfig tiny(ClipConfig config) {
  config.transformer_width = 64;
  config.transformer_heads = 1;
  config.transformer_layers = 1;
  if (config.is_vit()) {
    config.vision_width = 64;
    config.vision_heads = 1;
    config.vision_layers = {2};
    config.embed_dim = 64;
  } else {
    config.vision_width = 16;
    config.vision_heads = 8;  // CLIP's rule: width * 32 / 64
    config.vision_layers = {1, 1, 1, 1};
    config.embed_dim = 64;
  }
  return config;
}

void write_module(io::h5::File& file, const std::string& prefix, const torch::nn::Module& module) {
  for (const auto& p : module.named_parameters()) file.write(prefix + p.key(), p.value().detach().cpu());
  for (const auto& b : module.named_buffers()) file.write(prefix + b.key(), b.value().cpu());
}

}  // namespace

launch::TrainingParts StepModels::parts(dist::Communicator& communicator, models::Precision precision) {
  return {enhancer, *guidance_encoder, *identity_encoder, *guidance, *optimizer, *reducer, communicator, precision};
}

StepModels make_step_models(const std::string& encoders, int64_t batch, int64_t size, const torch::Device& device,
                            dist::Communicator& communicator, uint64_t seed, double tau) {
  if (encoders != "full" && encoders != "tiny") {
    throw UsageError("--encoders " + encoders + " is not known", "full (CLIP ViT-B/32 and RN101) or tiny");
  }
  StepModels m;
  m.encoders = encoders;
  torch::manual_seed(0);
  const bool full = encoders == "full";
  m.vit = models::ClipModel(full ? ClipConfig::vit_b32() : tiny(ClipConfig::vit_b32()));
  m.resnet = models::ClipModel(full ? ClipConfig::rn101() : tiny(ClipConfig::rn101()));
  torch::manual_seed(seed);
  m.enhancer = models::Enhancer(models::EnhancerOptions().cond_padding(torch::kZeros));
  const torch::Tensor direction = torch::randn({m.vit->config().embed_dim});
  guidance::ResidualVector vector;
  vector.residual = direction / direction.norm();
  vector.tau = tau;
  m.x = torch::rand({batch, 3, size, size}).to(device);

  m.guidance_encoder = std::make_unique<guidance::ClipGuidanceEncoder>(m.vit, "random " + encoders + " ViT");
  m.identity_encoder = std::make_unique<guidance::ClipIdentityEncoder>(m.resnet, "random " + encoders + " ResNet");
  m.guidance_encoder->to(device);
  m.identity_encoder->to(device);
  m.guidance = std::make_unique<guidance::RaveGuidance>(vector);
  m.guidance->to(device);
  m.enhancer->to(device);
  m.optimizer = std::make_unique<torch::optim::Adam>(m.enhancer->parameters(), launch::reference_adam(2e-5, 1e-3));
  m.reducer = std::make_unique<dist::GradientReducer>(communicator, m.enhancer->named_parameters());
  return m;
}

void save_step_models(const std::string& path, const StepModels& m) {
  io::h5::File file = io::h5::File::create(path);
  write_module(file, "enhancer/", *m.enhancer);
  write_module(file, "vit/", *m.vit->vit);
  write_module(file, "resnet/", *m.resnet->resnet);
  file.write_string("vit_config", m.vit->config().to_json());
  file.write_string("resnet_config", m.resnet->config().to_json());
  file.write("x", m.x.cpu());
  const std::map<std::string, torch::Tensor> guidance = m.guidance->state();
  file.write("residual", guidance.at("residual").cpu());
  file.write("tau", guidance.at("tau").cpu());
  file.close();
}

}  // namespace rave::bench
