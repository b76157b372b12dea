#include "guidance/residual.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "io/h5.h"
#include "tests/support/test_support.h"

namespace rave::guidance {
namespace {

TEST(Residual, ClosedFormInTwoDimensions) {
  // Well-lit mean along x, backlit mean along y: r = (1, -1)/sqrt(2), tau = 1/sqrt(2).
  const auto result = residual_from_sums(torch::tensor({4.0, 0.0}), 2, torch::tensor({0.0, 3.0}), 3);
  EXPECT_TRUE(torch::allclose(result.residual, torch::tensor({1.0f, -1.0f}) / std::sqrt(2.0f)));
  EXPECT_NEAR(result.tau, 1 / std::sqrt(2.0), 1e-12);
  EXPECT_EQ(result.residual.scalar_type(), torch::kFloat32);
  EXPECT_EQ(result.n_pos, 2);
}

TEST(Residual, RejectsEmptyAndIdenticalSets) {
  EXPECT_THROW(residual_from_sums(torch::ones({4}), 0, torch::ones({4}), 1), Error);
  EXPECT_THROW(residual_from_sums(torch::ones({4}), 2, torch::ones({4}), 3), Error);
  EXPECT_THROW(residual_from_sums(torch::ones({4}), 2, torch::ones({5}), 3), Error);
}

TEST(Residual, MatchesTheReferenceOnTheFixtureEmbeddings) {
  RAVE_REQUIRE_FIXTURES();
  const auto file = io::h5::File::open((test::fixtures_dir() / "losses/loss_golden.h5").string());
  const auto pos = file.read("residual/embs_pos"), neg = file.read("residual/embs_neg");
  const auto result = residual_from_sums(pos.sum(0), pos.size(0), neg.sum(0), neg.size(0));
  // The reference computes in float32; ALGORITHMS/fixtures README: float64 differs by <= 4.6e-7.
  EXPECT_LE((result.residual - file.read("residual/residual_vector")).abs().max().item<double>(), 1e-6);
  EXPECT_LE((result.v_pos - file.read("residual/vector_pos")).abs().max().item<double>(), 1e-6);
  EXPECT_LE((result.v_neg - file.read("residual/vector_neg")).abs().max().item<double>(), 1e-6);
  EXPECT_NEAR(result.tau, file.read("residual/thr").item<double>(), 1e-6);
}

}  // namespace
}  // namespace rave::guidance
