// The vocabulary embeddings (vocabulary.h) cached in an HDF5 file, so that only the first analysis of a model
// pays for the sweep. A cache file is keyed by two hashes: of the text encoder's weights and of the vocabulary
// as the encoder sees it (every id's decoded text and the token ids it is re-tokenized to, which also covers
// a change of the tokenizer). Layout:
//   embeddings [vocab_size, D] float32, string_ids [S] int64 (the dict view), and the decoded texts as
//   text_bytes (uint8, UTF-8 end to end) with text_offsets [vocab_size + 1] int64 (text i = bytes o[i]..o[i+1])
//   root attributes: format = "rave-vocabulary", format_version, encoder_hash, vocabulary_hash, clip (the model
//   file it was computed from), vocab_file, created, rave_version.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "analysis/vocabulary/vocabulary.h"

namespace rave::analysis {

struct VocabularyCacheKey {
  std::string encoder_hash;     // 16 hex digits
  std::string vocabulary_hash;  // 16 hex digits
};

// Hash of the parameters the text embedding depends on: every state-dict entry outside the image tower
// ("visual.*") and logit_scale, with its name and shape.
std::string text_encoder_hash(models::ClipModelImpl& model);
std::string vocabulary_hash(const models::Tokenizer& tokenizer, int64_t context_length);
VocabularyCacheKey vocabulary_cache_key(models::ClipModelImpl& model, const models::Tokenizer& tokenizer);

// The cache folder: `requested` when given, else $RAVE_CACHE_DIR, $XDG_CACHE_HOME/rave, $HOME/.cache/rave, or
// ./.rave-cache as the last resort.
std::filesystem::path cache_dir(const std::string& requested = "");
// <dir>/vocabulary-<encoder_hash>-<vocabulary_hash>.h5
std::filesystem::path vocabulary_cache_path(const std::filesystem::path& dir, const VocabularyCacheKey& key);

// Where the embeddings came from, for the cache file's attributes.
struct VocabularySource {
  std::string clip, vocab_file;
};

// Written to PATH.tmp<pid> and renamed (parent folders created); IoError naming the file when that fails.
void write_vocabulary_cache(const std::filesystem::path& path, const VocabularyEmbeddings& vocabulary,
                            const VocabularyCacheKey& key, const VocabularySource& source);
// The cached embeddings, or nothing when PATH does not exist. IoError when it exists but is not a vocabulary
// cache of this key (a corrupt or renamed file), naming the file and the mismatch.
std::optional<VocabularyEmbeddings> read_vocabulary_cache(const std::filesystem::path& path,
                                                          const VocabularyCacheKey& key);

// Read from `dir` when cached, else computed (every rank of `communicator` takes part) and written by rank 0.
// Logs which of the two happened. All ranks return the embeddings.
VocabularyEmbeddings cached_vocabulary_embeddings(models::ClipModelImpl& model, const models::Tokenizer& tokenizer,
                                                  dist::Communicator* communicator, const std::filesystem::path& dir,
                                                  const VocabularySource& source,
                                                  const VocabularyEmbeddingOptions& options = {});

}  // namespace rave::analysis
