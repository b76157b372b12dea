// What `rave analyze` reports about a residual vector r, and its three renderings (terminal table, JSON, bar
// chart data):
//   * the k vocabulary texts most and least aligned with r (cosine, the reference's dict view);
//   * the share of r inside the span of the top-k, bottom-k and both embeddings (|P r|², 0..1);
//   * the cosine of r with user phrases (full tokenizer) and the share of r in their span;
//   * optionally the per-image attribution of one phrase direction (image_attribution.h).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analysis/render/chart.h"
#include "analysis/vocabulary/image_attribution.h"
#include "analysis/vocabulary/token_ranking.h"

namespace rave::analysis {

struct PhraseProjection {
  std::string phrase;
  double cosine;  // <n(u), r>
};

struct DirectionAttribution {
  std::string phrase;
  double cosine;  // <n(u), r> of the stored r
  Attribution attribution;
};

struct ResidualAnalysis {
  std::string residual_file;
  TokenRanking tokens;
  double top_share = 0, bottom_share = 0, both_share = 0;
  std::vector<PhraseProjection> phrases;
  double phrase_share = 0;  // of r in the span of all phrases (0 without phrases)
  std::optional<DirectionAttribution> attribution;
};

// Tokens and their span shares; phrases and attribution are filled in by the caller when asked for.
ResidualAnalysis analyse_tokens(const VocabularyEmbeddings& vocabulary, const torch::Tensor& r, int64_t k);
// `embeddings` [P, D]: one row per phrase.
void add_phrases(ResidualAnalysis& analysis, const std::vector<std::string>& phrases, const torch::Tensor& embeddings,
                 const torch::Tensor& r);

// `top_images`: rows of the attribution table (JSON lists every image).
std::string analysis_table(const ResidualAnalysis& analysis, size_t top_images = 10);
// "top" / "bottom" arrays of {"token", "id", "score"} (what `rave report` reads), span shares, phrases, attribution.
nlohmann::ordered_json analysis_json(const ResidualAnalysis& analysis);
// The top tokens then the bottom ones, coloured like the report's chart, labelled with the quoted text (so that
// "ardi" and "ardi " differ).
std::vector<Bar> token_bars(const TokenRanking& tokens);

}  // namespace rave::analysis
