// Multi-rank semantics of the enhancer's step with the real RAVE loss (guidance/enhancer_loss.h), under
// mpirun -np 1 and 2: the gradient averaged over N ranks of batch b each (dist::GradientReducer, PyTorch DDP's
// semantics) is the gradient of the mean of the N per-rank losses, i.e. the reference's step at batch b with N
// times the data. Because the identity term sums over its batch, it is not one process's step at batch N·b.
// Every rank computes both single-process references itself.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dist/context.h"
#include "dist/gradient_reducer.h"
#include "dist/mpi_communicator.h"
#include "guidance/enhancer_loss.h"
#include "guidance/rave_guidance.h"
#include "guidance/residual.h"
#include "models/enhancer.h"
#include "tests/support/test_support.h"

namespace rave::guidance {
namespace {

constexpr int64_t kBatch = 2;  // b, per rank
constexpr double kLearningRate = 1e-3;

models::Enhancer fresh_enhancer() {
  torch::manual_seed(7);  // the same network in every role and on every rank
  return models::Enhancer();
}

// max |a - b| over every parameter's gradient, and the largest gradient entry.
std::pair<double, double> gradient_difference(const models::Enhancer& a, const models::Enhancer& b) {
  double difference = 0, scale = 0;
  const auto named = b->named_parameters();
  for (const auto& item : a->named_parameters()) {
    const torch::Tensor& ga = item.value().grad();
    const torch::Tensor& gb = named[item.key()].grad();
    difference = std::max(difference, (ga - gb).abs().max().item<double>());
    scale = std::max(scale, gb.abs().max().item<double>());
  }
  return {difference, scale};
}

void sgd_step(models::Enhancer& enhancer) {
  torch::NoGradGuard no_grad;
  for (auto& p : enhancer->parameters()) p.sub_(kLearningRate * p.grad());
}

void expect_mean_of_rank_losses(const std::string& guidance_spec, const std::string& identity_spec) {
  dist::Context context(nullptr, nullptr, {"cpu", 1});
  dist::MpiCommunicator communicator(context, 60);
  const int world = communicator.world_size(), rank = communicator.rank();
  auto guidance_encoder = make_guidance_encoder(guidance_spec);
  auto identity_encoder = make_identity_encoder(identity_spec);
  torch::manual_seed(1);
  const int64_t dim = guidance_encoder->dim();
  RaveGuidance rave(residual_from_sums(torch::randn({dim}), 3, torch::randn({dim}), 3));

  models::Enhancer replica = fresh_enhancer(), reference = fresh_enhancer(), one_process = fresh_enhancer(),
                   identity_part = fresh_enhancer();
  dist::GradientReducer reducer(communicator, replica->named_parameters());
  const auto loss = [&](models::Enhancer& enhancer, const torch::Tensor& x) {
    return enhancer_loss(enhancer, *guidance_encoder, *identity_encoder, rave, x, /*warm_up=*/false).loss;
  };

  for (int step = 0; step < 3; ++step) {
    torch::manual_seed(100 + step);
    const torch::Tensor data = torch::rand({world * kBatch, 3, 32, 32});  // the step's data, the same on every rank
    const auto slice = [&](int r) { return data.narrow(0, r * kBatch, kBatch); };

    replica->zero_grad();
    loss(replica, slice(rank)).backward();
    reducer.reduce();

    reference->zero_grad();
    torch::Tensor mean = torch::zeros({});
    for (int r = 0; r < world; ++r) mean = mean + loss(reference, slice(r));
    (mean / world).backward();

    const auto [difference, scale] = gradient_difference(replica, reference);
    const double tolerance = 1e-5 * scale;  // float32 sums in another order
    EXPECT_LE(difference, tolerance) << guidance_spec << ", step " << step << ": the averaged gradient is not "
                                     << "the gradient of the mean of the ranks' losses";
    if (world > 1 && step == 0) {
      // One process at batch N·b: the guidance means agree, the identity sum runs over N times the images, so its
      // gradient exceeds the reference's by exactly that of 0.9·(1 - 1/N)·L_id over the N·b images.
      one_process->zero_grad();
      loss(one_process, data).backward();
      identity_part->zero_grad();
      const torch::Tensor identity =
          enhancer_loss(identity_part, *guidance_encoder, *identity_encoder, rave, data, false).identity;
      (kIdentityTermWeight * (1.0 - 1.0 / world) * identity).backward();
      for (auto& item : one_process->named_parameters()) {
        torch::NoGradGuard no_grad;
        item.value().grad().sub_(identity_part->named_parameters()[item.key()].grad());
      }
      EXPECT_LE(gradient_difference(one_process, reference).first, tolerance) << guidance_spec;
      double identity_gradient = 0;
      for (const auto& p : identity_part->parameters()) {
        identity_gradient = std::max(identity_gradient, p.grad().abs().max().item<double>());
      }
      EXPECT_GT(identity_gradient, 10 * tolerance) << guidance_spec << ": N ranks of batch b would be "
                                                   << "indistinguishable from one process at batch N*b";
    }
    sgd_step(replica);
    sgd_step(reference);
  }
  for (const auto& item : reference->named_parameters()) {
    const torch::Tensor& expected = item.value();
    const double error = (replica->named_parameters()[item.key()] - expected).abs().max().item<double>();
    EXPECT_LE(error, 1e-6 * expected.abs().max().item<double>()) << guidance_spec << ": " << item.key();
  }
}

TEST(EnhancerLoss, RanksTakeTheGradientOfTheMeanOfTheirLossesWithTheWeightFreeEncoders) {
  expect_mean_of_rank_losses("photometric", "pixels");
}

TEST(EnhancerLoss, RanksTakeTheGradientOfTheMeanOfTheirLossesWithTinyClip) {
  RAVE_REQUIRE_FIXTURES();
  const auto clip = test::fixtures_dir() / "clip";
  expect_mean_of_rank_losses((clip / "tiny_vit_state.h5").string(), (clip / "tiny_rn_state.h5").string());
}

}  // namespace
}  // namespace rave::guidance
