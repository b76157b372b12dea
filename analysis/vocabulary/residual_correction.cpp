#include "analysis/vocabulary/residual_correction.h"

#include <torch/torch.h>

#include <string>

#include "analysis/vocabulary/span.h"
#include "core/error.h"

namespace rave::analysis {
namespace {

guidance::ResidualVector with_residual(const guidance::ResidualVector& source, const torch::Tensor& r) {
  guidance::ResidualVector v = source;
  v.residual = r.to(torch::kFloat32);
  // From the stored float32 r', so that τ = <v_pos, r'> holds for the file's own numbers.
  v.tau = source.v_pos.to(torch::kFloat64).dot(v.residual.to(torch::kFloat64)).item<double>();
  return v;
}

void check_dimension(const guidance::ResidualVector& source, const torch::Tensor& directions, const char* what) {
  if (directions.size(-1) != source.residual.numel()) {
    throw UsageError(std::string(what) + " have dimension " + std::to_string(directions.size(-1)) +
                         " but the residual vector has " + std::to_string(source.residual.numel()),
                     "use the CLIP model whose image tower computed the residual vector");
  }
}

// mean_s c_s·u_s over the matches, normalised.
torch::Tensor weighted_mean_direction(const VocabularyEmbeddings& vocabulary, const std::vector<TokenMatch>& matches) {
  std::vector<double> scores;
  for (const TokenMatch& m : matches) scores.push_back(m.cosine);
  const torch::Tensor weights = torch::tensor(scores, torch::kFloat64).unsqueeze(1);
  return unit((weights * match_embeddings(vocabulary, matches)).mean(0));
}

}  // namespace

TokenShift shift_by_tokens(const VocabularyEmbeddings& vocabulary, const guidance::ResidualVector& source, int64_t n) {
  if (n < 1 || 2 * n > vocabulary.string_count()) {
    throw UsageError("the token shift needs 1 <= n <= " + std::to_string(vocabulary.string_count() / 2) +
                     " tokens (got " + std::to_string(n) + ")", "the reference used 15");
  }
  check_dimension(source, vocabulary.embeddings, "the vocabulary embeddings");
  const TokenRanking ranking = rank_tokens(vocabulary, source.residual, n);
  TokenShift shift;
  shift.removing = ranking.top;
  shift.adding = ranking.bottom;
  shift.direction = unit(weighted_mean_direction(vocabulary, shift.removing) +
                         weighted_mean_direction(vocabulary, shift.adding));
  shift.removed = shift.direction.unsqueeze(0);
  shift.vector = with_residual(source, remove_span(source.residual, shift.removed));
  return shift;
}

Correction remove_directions(const guidance::ResidualVector& source, const torch::Tensor& directions) {
  check_dimension(source, directions, "the phrase embeddings");
  Correction correction;
  correction.removed = orthonormal_basis(directions);
  correction.vector = with_residual(source, remove_span(source.residual, correction.removed));
  return correction;
}

Correction add_direction(const guidance::ResidualVector& source, const torch::Tensor& direction, double weight) {
  check_dimension(source, direction, "the phrase embedding");
  const torch::Tensor sum = source.residual.to(torch::kFloat64) + weight * unit(direction.flatten());
  if (!(sum.norm().item<double>() > 1e-6)) {
    throw UsageError("adding the phrase direction with weight " + std::to_string(weight) +
                         " cancels r (almost) exactly",
                     "choose another weight");
  }
  Correction correction;
  correction.removed = torch::zeros({0, source.residual.numel()}, torch::kFloat64);
  correction.vector = with_residual(source, unit(sum));
  return correction;
}

}  // namespace rave::analysis
