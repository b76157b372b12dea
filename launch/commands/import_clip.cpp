// rave import-clip: an OpenAI CLIP TorchScript archive to an HDF5 state file. The archive is loaded into a
// ClipModel first, so the written file is known to be complete and consistent (every key, every shape).
#include <spdlog/spdlog.h>

#include <filesystem>
#include <optional>

#include "core/error.h"
#include "io/option_binder.h"
#include "launch/commands/all.h"
#include "launch/commands/text_heads_option.h"
#include "models/clip/loader.h"

namespace rave::launch {
namespace {

// Every flag of rave import-clip (io/option_binder.h) with its default.
struct ImportClipFlags {
  std::optional<std::string> from;
  std::optional<std::string> to;
  int64_t text_heads = 0;  // CLIP's width / 64
};

void bind(io::OptionBinder& b, ImportClipFlags& f) {
  b.command_line_only();
  b.bind("from", f.from, "OpenAI CLIP archive (.pt)");
  b.bind("to", f.to, "HDF5 state file to write");
  bind_text_heads(b, f.text_heads);
}

int run(const Invocation& invocation) {
  const ImportClipFlags flags = io::read_flags<ImportClipFlags>(invocation.options);
  const std::string& from = io::required_value(flags.from, "from", "rave import-clip");
  const std::string& to = io::required_value(flags.to, "to", "rave import-clip");
  models::ClipLoadOptions load;
  if (const int64_t heads = checked_text_heads(flags.text_heads); heads > 0) load.text_heads = heads;
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
  return {"import-clip", "convert an OpenAI CLIP .pt archive to an HDF5 state file", false,
          io::declare_flags<ImportClipFlags>, run};
}

}  // namespace rave::launch
