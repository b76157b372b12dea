// rave analyze: what a residual vector means in CLIP's text space — the vocabulary texts most and least aligned
// with it, the share of it their span explains, its cosine with user phrases and, with --attribute, the training
// images behind one phrase direction. The vocabulary sweep is split over the ranks and cached (analysis/).
#include <spdlog/spdlog.h>

#include <iostream>
#include <optional>

#include "analysis/render/bar_plot.h"
#include "analysis/vocabulary/image_attribution.h"
#include "analysis/vocabulary/phrases.h"
#include "analysis/vocabulary/residual_analysis.h"
#include "analysis/vocabulary/span.h"
#include "analysis/vocabulary/text_tower.h"
#include "core/error.h"
#include "dist/communicator.h"
#include "guidance/clip_encoders.h"
#include "io/option_binder.h"
#include "launch/commands/all.h"
#include "launch/commands/exif_option.h"
#include "launch/commands/text_tower_option.h"

namespace rave::launch {
namespace {

// Every flag of rave analyze (io/option_binder.h); the defaults of the sweep and of the text tower are
// VocabularyEmbeddingOptions' and TextTowerOptions'.
struct AnalyzeFlags {
  std::string residual;
  int top = 20;
  std::optional<std::string> phrases;
  std::optional<std::string> attribute;
  int attribute_top = 10;
  bool json = false;
  std::optional<std::string> chart;
  VocabularySweep sweep;
  int64_t image_batch = 32;
  std::string backlit;
  std::string welllit;
  io::ExifOrientation exif = io::kTrainingExifOrientation;
  analysis::TextTowerOptions tower;
};

void bind(io::OptionBinder& b, AnalyzeFlags& f) {
  b.command_line_only();
  b.bind("residual", f.residual, "residual-vector file (rave residual, rave correct)");
  b.bind("top", f.top, "number of most and of least aligned vocabulary texts");
  b.bind("phrases", f.phrases, "comma-separated phrases, or @FILE with one a line, to project r onto");
  b.bind("attribute", f.attribute,
         "phrase whose direction is attributed to the training images (needs --backlit and --welllit)");
  b.bind("attribute-top", f.attribute_top, "images listed in the attribution table (JSON: all)");
  b.bind("json", f.json, "print JSON on stdout instead of the table (rave report reads it)");
  b.bind("chart", f.chart, "also draw the top and bottom texts as a bar chart (PNG file)");
  bind_vocabulary_sweep(b, f.sweep);
  b.bind("batch-size", f.image_batch, "images per encoder call of the attribution");
  b.section("data");
  b.bind("backlit", f.backlit, "folder of backlit images (for --attribute)");
  b.bind("welllit", f.welllit, "folder of well-lit images (for --attribute)");
  bind_exif(b, f.exif);
  bind_text_tower(b, f.tower);
}

analysis::DirectionAttribution attribute(const AnalyzeFlags& flags, analysis::TextTower& tower,
                                         const torch::Tensor& r, dist::Communicator& communicator,
                                         const torch::Device& device) {
  const std::string& phrase = *flags.attribute;
  const std::string command = "rave analyze --attribute";
  io::ImageFolder backlit(io::required_value(flags.backlit, "backlit", command), flags.exif);
  io::ImageFolder welllit(io::required_value(flags.welllit, "welllit", command), flags.exif);
  // The image tower of the model already loaded for the text: same weights, loaded once.
  guidance::ClipGuidanceEncoder encoder(tower.model(), tower.options().clip);
  const int64_t batch = flags.image_batch;
  const analysis::FolderEmbeddings pos = analysis::embed_folder(encoder, welllit, &communicator, batch, device);
  const analysis::FolderEmbeddings neg = analysis::embed_folder(encoder, backlit, &communicator, batch, device);
  const torch::Tensor direction = tower.embed({phrase});
  const double cosine = analysis::unit(direction.flatten()).dot(analysis::unit(r.flatten())).item<double>();
  return {phrase, cosine, analysis::attribute_direction(pos, neg, direction)};
}

int run(const Invocation& invocation) {
  const AnalyzeFlags flags = io::read_flags<AnalyzeFlags>(invocation.options);
  const std::string command = "rave analyze";
  const std::string& residual_path = io::required_value(flags.residual, "residual", command);
  io::check_range("top", flags.top, 1, 100'000);
  io::check_range("attribute-top", flags.attribute_top, 0, 100'000);
  check_vocabulary_sweep(flags.sweep);
  io::check_range("batch-size", flags.image_batch, 1, io::kMaxBatchSize);
  const guidance::ResidualFile residual = guidance::read_residual_file(residual_path);
  const torch::Device device = invocation.context->device();
  analysis::TextTower tower(checked_text_tower(flags.tower, command, device));
  tower.check_fits(residual, residual_path);
  // Host tensors throughout: the MPI backend gathers them.
  auto communicator = dist::make_communicator(*invocation.context, "mpi");

  const analysis::VocabularyEmbeddings vocabulary =
      tower.vocabulary(communicator.get(), flags.sweep.cache, flags.sweep.options);
  const torch::Tensor& r = residual.vector.residual;
  analysis::ResidualAnalysis result = analysis::analyse_tokens(vocabulary, r, flags.top);
  result.residual_file = residual_path;
  if (flags.phrases) {
    const std::vector<std::string> phrases = analysis::parse_phrases(*flags.phrases);
    analysis::add_phrases(result, phrases, tower.embed(phrases), r);
  }
  if (flags.attribute) result.attribution = attribute(flags, tower, r, *communicator, device);

  if (invocation.context->is_root()) {
    if (flags.json) {
      std::cout << analysis::analysis_json(result).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                << "\n";
    } else {
      std::cout << analysis::analysis_table(result, size_t(flags.attribute_top));
    }
    if (flags.chart) {
      const std::string& chart = *flags.chart;
      analysis::write_bar_chart_png(chart, analysis::token_bars(result.tokens),
                                    "Vocabulary texts most (blue) and least (orange) aligned with r");
      spdlog::info("wrote {}", chart);
    }
  }
  communicator->barrier();
  return 0;
}

}  // namespace

Command analyze_command() {
  return {"analyze", "project a residual vector onto the CLIP vocabulary to reveal dataset bias", true,
          io::declare_flags<AnalyzeFlags>, run};
}

}  // namespace rave::launch
