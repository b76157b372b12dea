// rave analyze: what a residual vector means in CLIP's text space — the vocabulary texts most and least aligned
// with it, the share of it their span explains, its cosine with user phrases and, with --attribute, the training
// images behind one phrase direction. The vocabulary sweep is split over the ranks and cached (analysis/).
#include <spdlog/spdlog.h>

#include <iostream>

#include "analysis/render/bar_plot.h"
#include "analysis/vocabulary/image_attribution.h"
#include "analysis/vocabulary/phrases.h"
#include "analysis/vocabulary/residual_analysis.h"
#include "analysis/vocabulary/span.h"
#include "analysis/vocabulary/text_tower.h"
#include "core/error.h"
#include "dist/communicator.h"
#include "guidance/clip_encoders.h"
#include "launch/commands/all.h"
#include "launch/commands/exif_option.h"
#include "launch/commands/text_heads_option.h"

namespace rave::launch {
namespace {

using io::po::value;

void declare(io::OptionSet& options) {
  options.flags()
      ("residual", value<std::string>(), "residual-vector file (rave residual, rave correct)")
      ("top", value<int>()->default_value(20), "number of most and of least aligned vocabulary texts")
      ("phrases", value<std::string>(), "comma-separated phrases, or @FILE with one a line, to project r onto")
      ("attribute", value<std::string>(), "phrase whose direction is attributed to the training images "
                                          "(needs --backlit and --welllit)")
      ("attribute-top", value<int>()->default_value(10), "images listed in the attribution table (JSON: all)")
      ("json", io::po::bool_switch(), "print JSON on stdout instead of the table (rave report reads it)")
      ("chart", value<std::string>(), "also draw the top and bottom texts as a bar chart (PNG file)")
      ("cache", value<std::string>()->default_value(""), "folder of the vocabulary-embedding cache "
                                                          "(default: $RAVE_CACHE_DIR, else $XDG_CACHE_HOME/rave, else ~/.cache/rave)")
      ("vocab-batch", value<int64_t>()->default_value(512), "texts per text-encoder call in the vocabulary sweep")
      ("batch-size", value<int64_t>()->default_value(32), "images per encoder call of the attribution");
  options.section("data")
      ("backlit", value<std::string>(), "folder of backlit images (for --attribute)")
      ("welllit", value<std::string>(), "folder of well-lit images (for --attribute)");
  declare_exif_option(options.section("data"), io::kTrainingExifOrientation);
  options.section("guidance")
      ("clip", value<std::string>(), "CLIP model (.pt or .h5) whose image tower computed the residual")
      ("vocab", value<std::string>(), "BPE merges file (bpe_simple_vocab_16e6.txt.gz)");
  declare_text_heads_option(options.section("guidance"));
}

analysis::DirectionAttribution attribute(const io::po::variables_map& options, int64_t batch,
                                         analysis::TextTower& tower, const torch::Tensor& r,
                                         dist::Communicator& communicator, const torch::Device& device) {
  const std::string phrase = options["attribute"].as<std::string>();
  io::ImageFolder backlit(io::required_value(options, "backlit", "rave analyze --attribute"), exif_option(options));
  io::ImageFolder welllit(io::required_value(options, "welllit", "rave analyze --attribute"), exif_option(options));
  // The image tower of the model already loaded for the text: same weights, loaded once.
  guidance::ClipGuidanceEncoder encoder(tower.model(), tower.options().clip);
  const analysis::FolderEmbeddings pos = analysis::embed_folder(encoder, welllit, &communicator, batch, device);
  const analysis::FolderEmbeddings neg = analysis::embed_folder(encoder, backlit, &communicator, batch, device);
  const torch::Tensor direction = tower.embed({phrase});
  const double cosine = analysis::unit(direction.flatten()).dot(analysis::unit(r.flatten())).item<double>();
  return {phrase, cosine, analysis::attribute_direction(pos, neg, direction)};
}

int run(const Invocation& invocation) {
  const auto& options = invocation.options;
  const std::string residual_path = io::required_value(options, "residual", "rave analyze");
  const int64_t top = io::bounded_value(options, "top", 1, 100'000);
  const int64_t table_rows = io::bounded_value(options, "attribute-top", 0, 100'000);
  const int64_t vocab_batch = io::bounded_value(options, "vocab-batch", 1, io::kMaxBatchSize);
  const int64_t image_batch = io::bounded_value(options, "batch-size", 1, io::kMaxBatchSize);
  const guidance::ResidualFile residual = guidance::read_residual_file(residual_path);
  const torch::Device device = invocation.context->device();
  analysis::TextTower tower({io::required_value(options, "clip", "rave analyze"),
                             io::required_value(options, "vocab", "rave analyze"),
                             text_heads_option(options), device});
  tower.check_fits(residual, residual_path);
  // Host tensors throughout: the MPI backend gathers them.
  auto communicator = dist::make_communicator(*invocation.context, "mpi");

  analysis::VocabularyEmbeddingOptions sweep;
  sweep.batch_size = vocab_batch;
  const analysis::VocabularyEmbeddings vocabulary =
      tower.vocabulary(communicator.get(), options["cache"].as<std::string>(), sweep);
  const torch::Tensor& r = residual.vector.residual;
  analysis::ResidualAnalysis result = analysis::analyse_tokens(vocabulary, r, top);
  result.residual_file = residual_path;
  if (options.count("phrases")) {
    const std::vector<std::string> phrases = analysis::parse_phrases(options["phrases"].as<std::string>());
    analysis::add_phrases(result, phrases, tower.embed(phrases), r);
  }
  if (options.count("attribute")) result.attribution = attribute(options, image_batch, tower, r, *communicator, device);

  if (invocation.context->is_root()) {
    if (options["json"].as<bool>()) {
      std::cout << analysis::analysis_json(result).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                << "\n";
    } else {
      std::cout << analysis::analysis_table(result, size_t(table_rows));
    }
    if (options.count("chart")) {
      const std::string chart = options["chart"].as<std::string>();
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
  return {"analyze", "project a residual vector onto the CLIP vocabulary to reveal dataset bias", true, declare, run};
}

}  // namespace rave::launch
