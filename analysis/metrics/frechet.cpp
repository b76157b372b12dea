#include "analysis/metrics/frechet.h"

#include <torch/torch.h>

#include <algorithm>
#include <string>

#include "core/error.h"

namespace rave::analysis {
namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

// Square root of a symmetric positive semi-definite matrix.
torch::Tensor psd_sqrt(const torch::Tensor& m) {
  const auto [values, vectors] = torch::linalg_eigh(m);
  return torch::matmul(vectors * values.clamp_min(0).sqrt().unsqueeze(0), vectors.transpose(0, 1));
}

torch::Tensor symmetric(const torch::Tensor& m) { return 0.5 * (m + m.transpose(0, 1)); }

}  // namespace

FeatureMoments::FeatureMoments(int64_t dim)
    : sum_(torch::zeros({dim}, kF64)), outer_(torch::zeros({dim, dim}, kF64)), count_(torch::zeros({1}, kF64)) {}

void FeatureMoments::add(const torch::Tensor& features) {
  if (features.dim() != 2 || features.size(1) != dim()) {
    throw UsageError("feature moments of dimension " + std::to_string(dim()) + " got a tensor of shape " +
                     c10::str(features.sizes()));
  }
  const torch::Tensor x = features.detach().to(torch::kCPU, torch::kFloat64);
  sum_ += x.sum(0);
  outer_ += torch::matmul(x.transpose(0, 1), x);
  count_ += static_cast<double>(x.size(0));
}

void FeatureMoments::all_reduce(dist::Communicator& communicator) {
  communicator.all_reduce_sum(sum_);
  communicator.all_reduce_sum(outer_);
  communicator.all_reduce_sum(count_);
}

int64_t FeatureMoments::count() const { return static_cast<int64_t>(count_.item<double>()); }

torch::Tensor FeatureMoments::mean() const { return sum_ / count_.item<double>(); }

torch::Tensor FeatureMoments::covariance() const {
  const double n = count_.item<double>();
  const torch::Tensor mu = mean();
  return symmetric((outer_ - n * torch::outer(mu, mu)) / (n - 1));
}

double frechet_distance(const torch::Tensor& mean1, const torch::Tensor& cov1, const torch::Tensor& mean2,
                        const torch::Tensor& cov2) {
  const torch::Tensor m1 = mean1.to(kF64), m2 = mean2.to(kF64), s1 = cov1.to(kF64), s2 = cov2.to(kF64);
  if (m1.dim() != 1 || m1.sizes() != m2.sizes() || s1.dim() != 2 || s1.sizes() != s2.sizes() ||
      s1.size(0) != m1.size(0) || s1.size(1) != m1.size(0)) {
    throw UsageError("Fréchet distance needs two means [D] and two covariances [D,D] of one dimension D");
  }
  const torch::Tensor root1 = psd_sqrt(symmetric(s1));
  const torch::Tensor middle = symmetric(torch::matmul(torch::matmul(root1, s2), root1));
  const double cross = torch::linalg_eigvalsh(middle).clamp_min(0).sqrt().sum().item<double>();
  const double distance =
      (m1 - m2).square().sum().item<double>() + s1.trace().item<double>() + s2.trace().item<double>() - 2 * cross;
  return std::max(distance, 0.0);
}

double frechet_distance(const FeatureMoments& a, const FeatureMoments& b) {
  if (a.count() < 2 || b.count() < 2) {
    throw UsageError("a Fréchet distance needs at least 2 images per set (got " + std::to_string(a.count()) + " and " +
                         std::to_string(b.count()) + ")",
                     "evaluate more images");
  }
  return frechet_distance(a.mean(), a.covariance(), b.mean(), b.covariance());
}

}  // namespace rave::analysis
