#include "analysis/vocabulary/text_tower.h"

#include <spdlog/spdlog.h>

#include "analysis/vocabulary/phrases.h"
#include "analysis/vocabulary/vocabulary_cache.h"
#include "core/error.h"
#include "models/clip/loader.h"

namespace rave::analysis {
namespace {

models::ClipModel load_model(const TextTowerOptions& options) {
  models::ClipLoadOptions load;
  if (options.text_heads > 0) load.text_heads = options.text_heads;
  models::ClipModel model = models::load_clip(options.clip, load);
  model->to(options.device);
  return model;
}

}  // namespace

TextTower::TextTower(const TextTowerOptions& options)
    : options_(options), tokenizer_(options.vocab), model_(load_model(options)) {}

torch::Tensor TextTower::embed(const std::vector<std::string>& phrases) {
  return embed_phrases(*model_, tokenizer_, phrases);
}

VocabularyEmbeddings TextTower::vocabulary(dist::Communicator* communicator, const std::string& cache_dir,
                                           const VocabularyEmbeddingOptions& options) {
  return cached_vocabulary_embeddings(*model_, tokenizer_, communicator, analysis::cache_dir(cache_dir),
                                      {options_.clip, options_.vocab}, options);
}

void TextTower::check_fits(const guidance::ResidualFile& residual, const std::string& path) const {
  const int64_t dim = residual.vector.residual.numel();
  if (dim != model_->config().embed_dim) {
    throw UsageError(path + " holds a " + std::to_string(dim) + "-dimensional residual vector (encoder '" +
                         residual.encoder + "') but " + options_.clip + " embeds text in " +
                         std::to_string(model_->config().embed_dim) + " dimensions",
                     "use the CLIP model whose image tower computed the residual vector");
  }
  if (residual.encoder.find("clip") != 0) {
    spdlog::warn("{} was computed with the encoder '{}', not a CLIP image tower: its directions need not mean "
                 "anything in CLIP's text space", path, residual.encoder);
  }
}

}  // namespace rave::analysis
