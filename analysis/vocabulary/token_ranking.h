// The vocabulary ranked by alignment with a direction (the residual vector): cosine of every distinct decoded
// text (the reference's dict view, ALGORITHMS §4.6.3 step 2) with the direction, and the k most and least
// aligned texts.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "analysis/vocabulary/vocabulary.h"

namespace rave::analysis {

struct TokenMatch {
  int64_t id;        // the vocabulary id the reference's dict keeps for this text
  std::string text;  // decode([id])
  double cosine;     // <n(u), n(direction)>
};

struct TokenRanking {
  std::vector<TokenMatch> top;     // largest cosine first
  std::vector<TokenMatch> bottom;  // smallest cosine first
};

// <n(u_s), n(direction)> for every distinct text s, float64 [string_count].
torch::Tensor text_cosines(const VocabularyEmbeddings& vocabulary, const torch::Tensor& direction);

// The k texts with the largest and the k with the smallest cosine (k is capped at the number of texts).
TokenRanking rank_tokens(const VocabularyEmbeddings& vocabulary, const torch::Tensor& direction, int64_t k);

// The un-normalised embeddings [k, D] (float64) of the matches, in their order.
torch::Tensor match_embeddings(const VocabularyEmbeddings& vocabulary, const std::vector<TokenMatch>& matches);

}  // namespace rave::analysis
