// Bias correction and the linear algebra under it, on random embeddings: every corrected r' is unit-norm and
// orthogonal to what was removed, tau = <v_pos, r'> on the stored numbers, and the token shift is the formula
// of ALGORITHMS 4.6.3 (with n tokens) computed here the slow way.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>

#include "analysis/vocabulary/residual_correction.h"
#include "analysis/vocabulary/span.h"
#include "core/error.h"
#include "guidance/residual.h"

namespace rave::analysis {
namespace {

constexpr int64_t kDim = 24;

guidance::ResidualVector example_residual() {
  torch::manual_seed(1);
  const torch::Tensor pos = torch::randn({kDim}, torch::kFloat64) + 1, neg = torch::randn({kDim}, torch::kFloat64) + 1;
  return guidance::residual_from_sums(pos, 5, neg, 7);
}

// 300 random "texts", with a few duplicate texts so that the dict view is smaller than the per-id one.
VocabularyEmbeddings example_vocabulary() {
  torch::manual_seed(2);
  VocabularyEmbeddings v;
  for (int i = 0; i < 300; ++i) v.texts.push_back("t" + std::to_string(i % 290));
  v.embeddings = torch::randn({300, kDim}) * 3;
  v.string_ids = distinct_text_ids(v.texts);
  // Identical texts have identical embeddings, as in a real sweep.
  for (int i = 290; i < 300; ++i) v.embeddings[i] = v.embeddings[i - 290];
  return v;
}

void expect_unit_and_tau(const guidance::ResidualVector& v) {
  EXPECT_EQ(v.residual.scalar_type(), torch::kFloat32);
  EXPECT_NEAR(v.residual.to(torch::kFloat64).norm().item<double>(), 1.0, 1e-6);
  EXPECT_EQ(v.tau, v.v_pos.to(torch::kFloat64).dot(v.residual.to(torch::kFloat64)).item<double>());
}

TEST(Span, OrthonormalBasisDropsDependentRows) {
  torch::manual_seed(3);
  const torch::Tensor a = torch::randn({3, kDim});
  const torch::Tensor rows = torch::cat({a, (a[0] * 2 - a[2]).unsqueeze(0), torch::zeros({1, kDim})});
  const torch::Tensor q = orthonormal_basis(rows);
  ASSERT_EQ(q.size(0), 3);
  EXPECT_LE((torch::mm(q, q.t()) - torch::eye(3, torch::kFloat64)).abs().max().item<double>(), 1e-12);
  EXPECT_NEAR(explained_share(a[1], q), 1.0, 1e-12);
  const torch::Tensor outside = remove_span(torch::randn({kDim}), q);
  EXPECT_LE(torch::mv(q, outside).abs().max().item<double>(), 1e-12);
  EXPECT_NEAR(explained_share(outside, q), 0.0, 1e-20);
  EXPECT_THROW(remove_span(a[1], q), Error);
}

TEST(Correction, RemovingPhrasesLeavesAUnitVectorOrthogonalToEach) {
  const guidance::ResidualVector source = example_residual();
  torch::manual_seed(4);
  const torch::Tensor phrases = torch::randn({4, kDim}) + source.residual;  // well aligned with r
  const Correction c = remove_directions(source, phrases);
  expect_unit_and_tau(c.vector);
  EXPECT_EQ(c.removed.size(0), 4);
  for (int64_t k = 0; k < 4; ++k) {
    EXPECT_LE(std::abs(unit(phrases[k]).dot(c.vector.residual.to(torch::kFloat64)).item<double>()), 1e-6);
  }
  EXPECT_TRUE(torch::equal(c.vector.v_pos, source.v_pos));
  EXPECT_EQ(c.vector.n_pos, source.n_pos);
  EXPECT_THROW(remove_directions(source, torch::randn({2, kDim + 1})), UsageError);
}

TEST(Correction, AddingAPhrase) {
  const guidance::ResidualVector source = example_residual();
  const torch::Tensor u = torch::randn({1, kDim}) * 5;
  const Correction c = add_direction(source, u, 0.5);
  expect_unit_and_tau(c.vector);
  const torch::Tensor expected = unit(source.residual.to(torch::kFloat64) + 0.5 * unit(u[0]));
  EXPECT_LE((c.vector.residual.to(torch::kFloat64) - expected).abs().max().item<double>(), 1e-7);
  EXPECT_TRUE(torch::equal(add_direction(source, u, 0).vector.residual, source.residual));
  EXPECT_THROW(add_direction(source, -source.residual.unsqueeze(0), 1.0), UsageError);
}

TEST(Correction, TokenShiftIsTheReferenceFormulaWithNTokens) {
  const guidance::ResidualVector source = example_residual();
  const VocabularyEmbeddings v = example_vocabulary();
  const int64_t n = 7;
  const TokenShift shift = shift_by_tokens(v, source, n);

  // The reference, spelled out: score every dict key, sort ascending, the n lowest and the n highest.
  const torch::Tensor r = source.residual.to(torch::kFloat64);
  std::vector<std::pair<double, int64_t>> scored;
  for (int64_t s = 0; s < v.string_count(); ++s) {
    const torch::Tensor u = v.embeddings[v.string_ids[size_t(s)]].to(torch::kFloat64);
    scored.push_back({(u / u.norm()).dot(r).item<double>(), v.string_ids[size_t(s)]});
  }
  std::sort(scored.begin(), scored.end());
  auto weighted_mean = [&](auto begin, auto end) {
    torch::Tensor sum = torch::zeros({kDim}, torch::kFloat64);
    for (auto it = begin; it != end; ++it) sum += it->first * v.embeddings[it->second].to(torch::kFloat64);
    return sum / sum.norm();  // n(mean) = n(sum)
  };
  const torch::Tensor z = weighted_mean(scored.begin(), scored.begin() + n);
  const torch::Tensor a = weighted_mean(scored.end() - n, scored.end());
  const torch::Tensor d = (a + z) / (a + z).norm();
  const torch::Tensor shifted = r - d.dot(r) * d;
  const torch::Tensor expected = shifted / shifted.norm();

  ASSERT_EQ(shift.removing.size(), size_t(n));
  ASSERT_EQ(shift.adding.size(), size_t(n));
  EXPECT_EQ(shift.removing[0].id, scored.back().second);
  EXPECT_EQ(shift.adding[0].id, scored.front().second);
  EXPECT_LE((shift.direction - d).abs().max().item<double>(), 1e-12);
  EXPECT_LE((shift.vector.residual.to(torch::kFloat64) - expected).abs().max().item<double>(), 1e-7);
  EXPECT_LE(std::abs(d.dot(shift.vector.residual.to(torch::kFloat64)).item<double>()), 1e-6);
  expect_unit_and_tau(shift.vector);
  EXPECT_THROW(shift_by_tokens(v, source, 0), UsageError);
}

}  // namespace
}  // namespace rave::analysis
