// The CLIP text side that `rave analyze` and `rave correct` work with: the model (loaded once per rank, frozen),
// its tokenizer, phrase embeddings and the cached vocabulary embeddings, and the check that a residual vector
// lives in this model's embedding space.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "analysis/vocabulary/vocabulary.h"
#include "guidance/residual_file.h"

namespace rave::analysis {

struct TextTowerOptions {
  std::string clip;   // CLIP model (.pt archive or .h5 state file)
  std::string vocab;  // BPE merges file
  int64_t text_heads = 0;  // of a .pt archive whose width is not a multiple of 64 (0: width / 64)
  torch::Device device = torch::kCPU;
};

class TextTower {
 public:
  explicit TextTower(const TextTowerOptions& options);

  models::ClipModel& model() { return model_; }
  const models::Tokenizer& tokenizer() const { return tokenizer_; }
  const TextTowerOptions& options() const { return options_; }

  // Un-normalised embeddings [P, D] (float32, CPU) of phrases (full tokenizer).
  torch::Tensor embed(const std::vector<std::string>& phrases);
  // From the cache in `cache_dir` (cache_dir() rules) or computed by the ranks of `communicator` (may be null).
  VocabularyEmbeddings vocabulary(dist::Communicator* communicator, const std::string& cache_dir,
                                  const VocabularyEmbeddingOptions& options = {});

  // UsageError naming `path` unless the residual vector has this model's embedding dimension (a residual of
  // another encoder, e.g. "photometric", cannot be read in CLIP's text space).
  void check_fits(const guidance::ResidualFile& residual, const std::string& path) const;

 private:
  TextTowerOptions options_;
  models::Tokenizer tokenizer_;
  models::ClipModel model_;
};

}  // namespace rave::analysis
