// rave residual: the RAVE residual vector of a backlit and a well-lit folder, written as an HDF5 file.
#include <spdlog/spdlog.h>

#include "core/cpu_block_cache.h"
#include "core/error.h"
#include "dist/communicator.h"
#include "guidance/residual_file.h"
#include "guidance/residual_pass.h"
#include "launch/commands/all.h"
#include "launch/commands/exif_option.h"

namespace rave::launch {
namespace {

using io::po::value;

void declare(io::OptionSet& options) {
  options.section("data")
      ("backlit", value<std::string>(), "folder of backlit images")
      ("welllit", value<std::string>(), "folder of well-lit images");
  declare_exif_option(options.section("data"), io::kTrainingExifOrientation);
  options.section("guidance")("clip", value<std::string>(), "guidance encoder (CLIP ViT .pt/.h5 or 'photometric')");
  options.flags()
      ("out", value<std::string>(), "output HDF5 file (r, tau, v_pos, v_neg, counts, file lists)")
      ("batch-size", value<int64_t>()->default_value(32), "images per encoder batch on each rank")
      ("backend", value<std::string>()->default_value("auto"), "collectives: auto (NCCL on GPUs, else MPI), mpi or nccl");
}

int run(const Invocation& invocation) {
  core::install_cpu_block_cache();
  const auto& options = invocation.options;
  const std::string out = io::required_value(options, "out", "rave residual");
  const int64_t batch_size = io::bounded_value(options, "batch-size", 1, io::kMaxBatchSize);
  io::ImageFolder backlit(io::required_value(options, "backlit", "rave residual"), exif_option(options));
  io::ImageFolder welllit(io::required_value(options, "welllit", "rave residual"), exif_option(options));
  auto encoder = guidance::make_guidance_encoder(io::required_value(options, "clip", "rave residual"));
  encoder->to(invocation.context->device());
  auto communicator = dist::make_communicator(*invocation.context, options["backend"].as<std::string>());
  spdlog::info("residual pass: {} backlit and {} well-lit images over {} rank(s), encoder {}", backlit.size(),
               welllit.size(), communicator->world_size(), encoder->name());

  guidance::ResidualPassOptions pass;
  pass.batch_size = batch_size;
  pass.device = invocation.context->device();
  guidance::ResidualFile file;
  file.vector = guidance::compute_residual(*encoder, backlit, welllit, *communicator, pass);
  file.encoder = encoder->name();
  file.backlit_files = guidance::file_names(backlit);
  file.welllit_files = guidance::file_names(welllit);
  file.note = "mean unit embeddings of the two folders (RAVE's residual vector, docs/training.md)";
  const size_t skipped = backlit.unreadable_count() + welllit.unreadable_count();
  if (skipped > 0) spdlog::warn("rank {} skipped {} unreadable file(s)", communicator->rank(), skipped);
  if (invocation.context->is_root()) {
    guidance::write_residual_file(out, file);
    spdlog::info("wrote {}: {} well-lit and {} backlit images, tau = {:.6f}, <v_pos, v_neg> = {:.6f}", out,
                 file.vector.n_pos, file.vector.n_neg, file.vector.tau,
                 torch::dot(file.vector.v_pos, file.vector.v_neg).item<double>());
  }
  communicator->barrier();
  return 0;
}

}  // namespace

Command residual_command() {
  return {"residual", "compute the residual vector of a backlit and a well-lit image folder", true, declare, run};
}

}  // namespace rave::launch
