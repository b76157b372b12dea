// Text embeddings of the whole CLIP vocabulary, the raw material of RAVE's residual analysis (ALGORITHMS
// §4.6.3 step 1): for every id, decode([id]) (§1.6), tokenize that text again with the full tokenizer, and take
// the text encoder's EOT-pooled, un-normalised output.
//
// The reference encodes one id at a time over the whole 77-token context. Here the distinct texts are sorted by
// their tokenized length and encoded in batches of one length, cut right after the end token, with the start
// position computed once for all (ClipModelImpl::encode_text_after_start): exact, because the causal mask keeps
// later positions from influencing earlier ones. Batches are dealt round-robin to the ranks and the rows gathered, so the result
// does not depend on how many ranks computed it.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dist/communicator.h"
#include "models/clip/clip_model.h"
#include "models/clip/tokenizer.h"

namespace rave::analysis {

// Both views the analysis needs of the vocabulary's embeddings.
struct VocabularyEmbeddings {
  // Per id (0 .. vocab_size-1): the decoded text and its embedding [vocab_size, D] (float32, un-normalised).
  std::vector<std::string> texts;
  torch::Tensor embeddings;
  // The reference's view, a dict keyed by the decoded text: the distinct texts in first-insertion order, each
  // with the id whose entry the dict keeps (the last id with that text; 48,930 keys for CLIP's vocabulary).
  std::vector<int64_t> string_ids;

  int64_t size() const { return static_cast<int64_t>(texts.size()); }
  int64_t string_count() const { return static_cast<int64_t>(string_ids.size()); }
  const std::string& string_text(int64_t s) const { return texts[static_cast<size_t>(string_ids[s])]; }
  // [string_count, D], the rows of `embeddings` at string_ids.
  torch::Tensor string_embeddings() const;
};

// decode([id]) of every id, and the reference's dict view of them (VocabularyEmbeddings::string_ids).
std::vector<std::string> decode_vocabulary(const models::Tokenizer& tokenizer);
std::vector<int64_t> distinct_text_ids(const std::vector<std::string>& texts);

struct VocabularyEmbeddingOptions {
  int64_t batch_size = 512;  // texts per encoder call (all of one tokenized length)
  bool show_progress = true;  // rank 0 only
};

// Un-normalised embeddings [texts.size(), D] (float32, CPU) of texts tokenized like clip.tokenize (over-long
// texts truncated, end token kept), encoded in float32 in batches of one tokenized length cut after the end
// token. The
// batches depend only on the texts and the batch size; they are dealt round-robin to the ranks of
// `communicator` (null: this process computes everything) and every rank returns the whole result.
torch::Tensor embed_texts(models::ClipModelImpl& model, const models::Tokenizer& tokenizer,
                          const std::vector<std::string>& texts, dist::Communicator* communicator,
                          const VocabularyEmbeddingOptions& options = {});

// The whole vocabulary: each distinct decoded text is encoded once (embed_texts), every rank takes part.
VocabularyEmbeddings embed_vocabulary(models::ClipModelImpl& model, const models::Tokenizer& tokenizer,
                                      dist::Communicator* communicator, const VocabularyEmbeddingOptions& options = {});

}  // namespace rave::analysis
