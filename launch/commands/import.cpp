// rave import: published PyTorch enhancer weights (.pth, e.g. CLIP-LIT's enhancement_model.pth or RAVE's
// rave_paired.pth) to a rave checkpoint. The state dict is read without executing pickle code and loaded into
// an Enhancer first, so the written file is known to hold every parameter with its shape.
#include <spdlog/spdlog.h>

#include <filesystem>

#include "core/error.h"
#include "io/checkpoint.h"
#include "io/sha256.h"
#include "io/torch_zip.h"
#include "launch/commands/all.h"
#include "models/enhancer.h"

namespace rave::launch {
namespace {

void declare(io::OptionSet& options) {
  options.flags()
      ("from", io::po::value<std::string>(), "PyTorch checkpoint (.pth)")
      ("to", io::po::value<std::string>(), "rave checkpoint to write (.h5)")
      ("padding", io::po::value<std::string>()->default_value("zeros"),
       "cond* padding the weights were trained with, recorded in the checkpoint (the authors trained with zeros); "
       "rave enhance pads with reflect, as the authors run them, unless told otherwise");
}

int run(const Invocation& invocation) {
  const auto& options = invocation.options;
  for (const char* name : {"from", "to"}) {
    if (!options.count(name)) throw UsageError(std::string("rave import needs --") + name, "see rave import --help");
  }
  const std::string from = options["from"].as<std::string>(), to = options["to"].as<std::string>();
  const std::string padding = options["padding"].as<std::string>();

  const auto tensors = io::strip_data_parallel_prefix(io::read_torch_state_dict(from), from);
  models::Enhancer enhancer(models::EnhancerOptions().cond_padding(models::conv_padding_from_name(padding)));
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
               parameters, checkpoint.source, padding);
  return 0;
}

}  // namespace

Command import_command() {
  return {"import", "import published enhancer weights (.pth) into HDF5", false, declare, run};
}

}  // namespace rave::launch
