// rave residual: the RAVE residual vector of a backlit and a well-lit folder, written as an HDF5 file.
#include <spdlog/spdlog.h>

#include "core/cpu_block_cache.h"
#include "core/error.h"
#include "dist/communicator.h"
#include "guidance/residual_file.h"
#include "guidance/residual_pass.h"
#include "io/option_binder.h"
#include "launch/commands/all.h"
#include "launch/commands/exif_option.h"

namespace rave::launch {
namespace {

// Every flag of rave residual (io/option_binder.h); the encoder batch's default is ResidualPassOptions'.
struct ResidualFlags {
  std::string backlit;
  std::string welllit;
  io::ExifOrientation exif = io::kTrainingExifOrientation;
  std::string clip;
  std::string out;
  guidance::ResidualPassOptions pass;
  std::string backend = "auto";
};

void bind(io::OptionBinder& b, ResidualFlags& f) {
  b.section("data");
  b.bind("backlit", f.backlit, "folder of backlit images");
  b.bind("welllit", f.welllit, "folder of well-lit images");
  bind_exif(b, f.exif);
  b.section("guidance");
  b.bind("clip", f.clip, "guidance encoder (CLIP ViT .pt/.h5 or 'photometric')");
  b.command_line_only();
  b.bind("out", f.out, "output HDF5 file (r, tau, v_pos, v_neg, counts, file lists)");
  b.bind("batch-size", f.pass.batch_size, "images per encoder batch on each rank");
  b.bind("backend", f.backend, "collectives: auto (NCCL on GPUs, else MPI), mpi or nccl");
}

int run(const Invocation& invocation) {
  core::install_cpu_block_cache();
  ResidualFlags flags = io::read_flags<ResidualFlags>(invocation.options);
  const std::string command = "rave residual";
  const std::string& out = io::required_value(flags.out, "out", command);
  io::check_range("batch-size", flags.pass.batch_size, 1, io::kMaxBatchSize);
  io::ImageFolder backlit(io::required_value(flags.backlit, "backlit", command), flags.exif);
  io::ImageFolder welllit(io::required_value(flags.welllit, "welllit", command), flags.exif);
  auto encoder = guidance::make_guidance_encoder(io::required_value(flags.clip, "clip", command));
  encoder->to(invocation.context->device());
  auto communicator = dist::make_communicator(*invocation.context, flags.backend);
  spdlog::info("residual pass: {} backlit and {} well-lit images over {} rank(s), encoder {}", backlit.size(),
               welllit.size(), communicator->world_size(), encoder->name());

  guidance::ResidualPassOptions& pass = flags.pass;
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
  return {"residual", "compute the residual vector of a backlit and a well-lit image folder", true,
          io::declare_flags<ResidualFlags>, run};
}

}  // namespace rave::launch
