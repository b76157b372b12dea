#include "analysis/vocabulary/token_ranking.h"

#include <torch/torch.h>

#include <algorithm>

#include "analysis/vocabulary/span.h"

namespace rave::analysis {

torch::Tensor text_cosines(const VocabularyEmbeddings& vocabulary, const torch::Tensor& direction) {
  return torch::mv(unit(vocabulary.string_embeddings()), unit(direction.flatten()));
}

TokenRanking rank_tokens(const VocabularyEmbeddings& vocabulary, const torch::Tensor& direction, int64_t k) {
  const torch::Tensor cosines = text_cosines(vocabulary, direction).contiguous();
  const double* c = cosines.data_ptr<double>();
  std::vector<int64_t> order(size_t(cosines.numel()));
  for (size_t s = 0; s < order.size(); ++s) order[s] = int64_t(s);
  // Ascending like the reference's sort; stable, so that ties keep the dict order.
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return c[a] < c[b]; });
  const size_t count = size_t(std::clamp<int64_t>(k, 0, int64_t(order.size())));
  auto match = [&](int64_t s) { return TokenMatch{vocabulary.string_ids[size_t(s)], vocabulary.string_text(s), c[s]}; };
  TokenRanking ranking;
  for (size_t i = 0; i < count; ++i) {
    ranking.top.push_back(match(order[order.size() - 1 - i]));
    ranking.bottom.push_back(match(order[i]));
  }
  return ranking;
}

torch::Tensor match_embeddings(const VocabularyEmbeddings& vocabulary, const std::vector<TokenMatch>& matches) {
  std::vector<int64_t> ids;
  for (const TokenMatch& m : matches) ids.push_back(m.id);
  return vocabulary.embeddings.index_select(0, torch::tensor(ids, torch::kLong)).to(torch::kFloat64);
}

}  // namespace rave::analysis
