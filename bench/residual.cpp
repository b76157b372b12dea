// rave bench residual: guidance::compute_residual (the residual pass of `rave residual` and `rave train`) over two
// folders with a random-weight CLIP ViT-B/32; images/s. The weights and the vector are written to
// PREFIX.state.h5 / PREFIX.residual.h5 so that bench/rave_reference.py residual can run the reference procedure
// (one image at a time) with the same weights and compare the vectors.
#include <torch/torch.h>

#include "bench/report.h"
#include "bench/tasks.h"
#include "bench/timing.h"
#include "core/cpu_block_cache.h"
#include "dist/communicator.h"
#include "guidance/clip_encoders.h"
#include "guidance/residual_file.h"
#include "guidance/residual_pass.h"
#include "models/clip/loader.h"

namespace rave::bench {
namespace {

using io::po::value;

void declare(io::OptionSet& options) {
  options.flags()
      ("backlit", value<std::string>(), "folder of backlit images")
      ("welllit", value<std::string>(), "folder of well-lit images")
      ("out", value<std::string>(), "prefix of the weights and vector files written for the baseline");
}

int run(const launch::Invocation& invocation) {
  const auto& o = invocation.options;
  const std::string out = io::required_value(o, "out", "rave bench residual");
  core::install_cpu_block_cache();  // as `rave residual` does
  const auto communicator = dist::make_communicator(*invocation.context, "auto");
  torch::manual_seed(0);
  models::ClipModel model(models::ClipConfig::vit_b32());
  models::write_clip_state(out + ".state.h5", *model, "rave bench residual: random ViT-B/32 (seed 0)");
  guidance::ClipGuidanceEncoder encoder(model, "random ViT-B/32");
  encoder.to(invocation.context->device());
  io::ImageFolder backlit(io::required_value(o, "backlit", "rave bench residual"), io::kTrainingExifOrientation);
  io::ImageFolder welllit(io::required_value(o, "welllit", "rave bench residual"), io::kTrainingExifOrientation);
  {
    torch::NoGradGuard no_grad;  // warm-up, as the baseline's
    encoder.encode(torch::randn({1, 3, 224, 224}).to(invocation.context->device()));
  }
  guidance::ResidualPassOptions options;
  options.show_progress = false;
  options.device = invocation.context->device();
  const auto start = Clock::now();
  guidance::ResidualFile file;
  file.vector = guidance::compute_residual(encoder, backlit, welllit, *communicator, options);
  const double seconds = seconds_since(start);
  file.encoder = encoder.name();
  file.backlit_files = guidance::file_names(backlit);
  file.welllit_files = guidance::file_names(welllit);
  file.note = "rave bench residual";
  if (invocation.context->is_root()) guidance::write_residual_file(out + ".residual.h5", file);

  const int64_t images = file.vector.n_pos + file.vector.n_neg;
  nlohmann::ordered_json j;
  j["bench"] = "rave_residual";
  j["impl"] = "rave";
  j["procedure"] = "guidance::compute_residual, batch " + std::to_string(options.batch_size);
  // rave's own allocator for large CPU blocks (core/cpu_block_cache.h), as the command it measures uses it.
  j["allocator"] = "glibc malloc + rave's CPU block cache";
  j["images"] = images;
  j["seconds"] = rounded(seconds, 1e4);
  j["images_per_s"] = rounded(double(images) / seconds, 100);
  j["tau"] = file.vector.tau;
  return report(invocation, j);
}

}  // namespace

launch::Command residual_task() {
  return {"residual", "the residual pass over two folders, random ViT-B/32 (JSON)", true, declare, run};
}

}  // namespace rave::bench
