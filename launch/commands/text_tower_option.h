// The CLIP text tower and the vocabulary sweep of the commands that read a residual vector in CLIP's text space
// (analyze, correct): the same flags, the same checks.
#pragma once

#include <string>

#include "analysis/vocabulary/text_tower.h"
#include "io/option_binder.h"
#include "launch/commands/text_heads_option.h"

namespace rave::launch {

// Where the vocabulary's embeddings are cached, and how many texts one encoder call takes.
struct VocabularySweep {
  std::string cache;  // empty: TextTower::vocabulary's default folder
  analysis::VocabularyEmbeddingOptions options;
};

inline void bind_vocabulary_sweep(io::OptionBinder& b, VocabularySweep& sweep) {
  b.bind("cache", sweep.cache,
         "folder of the vocabulary-embedding cache (default: $RAVE_CACHE_DIR, else $XDG_CACHE_HOME/rave, else "
         "~/.cache/rave)");
  b.bind("vocab-batch", sweep.options.batch_size, "texts per text-encoder call in the vocabulary sweep");
}

// UsageError naming the flag when --vocab-batch is out of range.
inline void check_vocabulary_sweep(const VocabularySweep& sweep) {
  io::check_range("vocab-batch", sweep.options.batch_size, 1, io::kMaxBatchSize);
}

inline void bind_text_tower(io::OptionBinder& b, analysis::TextTowerOptions& tower) {
  b.section("guidance");
  b.bind("clip", tower.clip, "CLIP model (.pt or .h5) whose image tower computed the residual");
  b.bind("vocab", tower.vocab, "BPE merges file (bpe_simple_vocab_16e6.txt.gz)");
  bind_text_heads(b, tower.text_heads);
}

// The tower to load on `device`; UsageError when `command` lacks --clip or --vocab or has a bad --text-heads.
inline analysis::TextTowerOptions checked_text_tower(analysis::TextTowerOptions tower, const std::string& command,
                                                     const torch::Device& device) {
  io::required_value(tower.clip, "clip", command);
  io::required_value(tower.vocab, "vocab", command);
  checked_text_heads(tower.text_heads);
  tower.device = device;
  return tower;
}

}  // namespace rave::launch
