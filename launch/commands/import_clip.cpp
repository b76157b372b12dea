// rave import-clip: an OpenAI CLIP TorchScript archive to an HDF5 state file. The archive is loaded into a
// ClipModel first, so the written file is known to be complete and consistent (every key, every shape).
#include <spdlog/spdlog.h>

#include <filesystem>

#include "core/error.h"
#include "launch/commands/all.h"
#include "launch/commands/text_heads_option.h"
#include "models/clip/loader.h"

namespace rave::launch {
namespace {

void declare(io::OptionSet& options) {
  options.flags()
      ("from", io::po::value<std::string>(), "OpenAI CLIP archive (.pt)")
      ("to", io::po::value<std::string>(), "HDF5 state file to write");
  declare_text_heads_option(options.flags());
}

int run(const Invocation& invocation) {
  const auto& options = invocation.options;
  for (const char* name : {"from", "to"}) {
    if (!options.count(name)) {
      throw UsageError(std::string("rave import-clip needs --") + name, "see rave import-clip --help");
    }
  }
  const std::string from = options["from"].as<std::string>(), to = options["to"].as<std::string>();
  models::ClipLoadOptions load;
  if (const int64_t heads = text_heads_option(options); heads > 0) load.text_heads = heads;
  models::ClipModel model = models::build_clip(models::read_clip_state(from), from, load);
  models::write_clip_state(to, *model, std::filesystem::path(from).filename().string());
  int64_t parameters = 0;
  for (const auto& p : model->parameters()) parameters += p.numel();
  spdlog::info("wrote {}: {} ({} parameters, {} image tower)", to, model->config().to_json(), parameters,
               model->config().is_vit() ? "ViT" : "ModifiedResNet");
  return 0;
}

}  // namespace

Command import_clip_command() {
  return {"import-clip", "convert an OpenAI CLIP .pt archive to an HDF5 state file", false, declare, run};
}

}  // namespace rave::launch
