// rave import: published PyTorch enhancer weights (.pth, e.g. CLIP-LIT's enhancement_model.pth or RAVE's
// rave_paired.pth) to a rave checkpoint. The state dict is read without executing pickle code and loaded into
// an Enhancer first, so the written file is known to hold every parameter with its shape.
#include <spdlog/spdlog.h>

#include <filesystem>
#include <optional>

#include "core/error.h"
#include "io/checkpoint.h"
#include "io/option_binder.h"
#include "io/sha256.h"
#include "io/torch_zip.h"
#include "launch/commands/all.h"
#include "models/enhancer.h"

namespace rave::launch {
namespace {

// Every flag of rave import (io/option_binder.h); the padding's default is EnhancerOptions', the padding of
// training.
struct ImportFlags {
  std::optional<std::string> from;
  std::optional<std::string> to;
  models::EnhancerOptions enhancer;
};

void bind(io::OptionBinder& b, ImportFlags& f) {
  b.command_line_only();
  b.bind("from", f.from, "PyTorch checkpoint (.pth)");
  b.bind("to", f.to, "rave checkpoint to write (.h5)");
  b.bind("padding", f.enhancer.cond_padding(),
         "cond* padding the weights were trained with, recorded in the checkpoint (the authors trained with zeros); "
         "rave enhance pads with reflect, as the authors run them, unless told otherwise",
         models::conv_padding_name, models::conv_padding_from_name);
}

int run(const Invocation& invocation) {
  const ImportFlags flags = io::read_flags<ImportFlags>(invocation.options);
  const std::string& from = io::required_value(flags.from, "from", "rave import");
  const std::string& to = io::required_value(flags.to, "to", "rave import");

  const auto tensors = io::strip_data_parallel_prefix(io::read_torch_state_dict(from), from);
  models::Enhancer enhancer(flags.enhancer);
  models::load_enhancer_state(enhancer, {tensors.begin(), tensors.end()}, from);

  io::Checkpoint checkpoint;
  checkpoint.method = "imported";
  checkpoint.stage = "published";
  checkpoint.config = invocation.config_ini;
  checkpoint.source = std::filesystem::path(from).filename().string() + " (sha256 " + io::sha256_file(from) + ")";
  models::store_enhancer(checkpoint, enhancer);
  checkpoint.write(to);

  int64_t parameters = 0;
  for (const auto& [name, tensor] : tensors) parameters += tensor.numel();
  spdlog::info("wrote {}: {} tensors, {} parameters from {}, trained with cond* padding {}", to, tensors.size(),
               parameters, checkpoint.source, models::conv_padding_name(flags.enhancer.cond_padding()));
  return 0;
}

}  // namespace

Command import_command() {
  return {"import", "import published enhancer weights (.pth) into HDF5", false, io::declare_flags<ImportFlags>, run};
}

}  // namespace rave::launch
