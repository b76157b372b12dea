// Fréchet distance: closed forms for commuting covariances, moments accumulated in pieces, and a set against
// itself (also with fewer vectors than dimensions, where the covariance is singular).
#include "analysis/metrics/frechet.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/error.h"

namespace rave::analysis {
namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

TEST(Frechet, DiagonalGaussiansHaveClosedForm) {
  // For diagonal covariances a, b: |mu1 - mu2|^2 + sum(a + b - 2 sqrt(a b)).
  const auto mu1 = torch::tensor({0.0, 1.0, 2.0}, kF64), mu2 = torch::tensor({1.0, 1.0, 0.0}, kF64);
  const auto a = torch::tensor({1.0, 4.0, 0.25}, kF64), b = torch::tensor({9.0, 1.0, 0.25}, kF64);
  const double expected = 1 + 0 + 4 + (1 + 9 - 6) + (4 + 1 - 4) + 0;
  EXPECT_NEAR(frechet_distance(mu1, torch::diag(a), mu2, torch::diag(b)), expected, 1e-12);
}

TEST(Frechet, RotatedCovariancesKeepTheDistance) {
  // The distance is invariant under a rotation applied to both Gaussians.
  const auto q = std::get<0>(torch::linalg_qr(torch::randn({4, 4}, kF64)));
  const auto a = torch::diag(torch::tensor({1.0, 2.0, 3.0, 4.0}, kF64));
  const auto b = torch::diag(torch::tensor({4.0, 1.0, 1.0, 0.5}, kF64));
  const auto mu = torch::zeros({4}, kF64);
  const double plain = frechet_distance(mu, a, mu, b);
  const double rotated = frechet_distance(mu, q.matmul(a).matmul(q.t()), mu, q.matmul(b).matmul(q.t()));
  EXPECT_NEAR(rotated, plain, 1e-10);
  EXPECT_NEAR(plain, (1 + 4 - 4) + (2 + 1 - 2 * std::sqrt(2.0)) + (3 + 1 - 2 * std::sqrt(3.0)) +
                         (4 + 0.5 - 2 * std::sqrt(2.0)), 1e-10);
}

TEST(Frechet, MomentsMatchDirectStatisticsWhateverTheSplit) {
  const auto x = torch::randn({50, 6}, kF64);
  FeatureMoments whole(6), pieces(6);
  whole.add(x);
  pieces.add(x.slice(0, 0, 17));
  pieces.add(x.slice(0, 17, 50).to(torch::kFloat32).to(torch::kFloat64));
  EXPECT_EQ(whole.count(), 50);
  EXPECT_TRUE(torch::allclose(whole.mean(), x.mean(0)));
  EXPECT_TRUE(torch::allclose(whole.covariance(), torch::cov(x.t())));  // unbiased, as numpy.cov
  EXPECT_TRUE(torch::allclose(pieces.covariance(), whole.covariance()));
}

TEST(Frechet, SetAgainstItselfIsZero) {
  for (int64_t n : {40, 5}) {  // 5 vectors in 16 dimensions: singular covariance
    FeatureMoments a(16), b(16);
    const auto x = torch::nn::functional::normalize(torch::randn({n, 16}),
                                                    torch::nn::functional::NormalizeFuncOptions().dim(1));
    a.add(x);
    b.add(x);
    EXPECT_NEAR(frechet_distance(a, b), 0.0, 1e-6) << n;
  }
}

TEST(Frechet, NeedsTwoVectorsPerSet) {
  FeatureMoments a(3), b(3);
  a.add(torch::randn({1, 3}));
  b.add(torch::randn({4, 3}));
  EXPECT_THROW(frechet_distance(a, b), UsageError);
  EXPECT_THROW(a.add(torch::randn({2, 4})), UsageError);
}

}  // namespace
}  // namespace rave::analysis
