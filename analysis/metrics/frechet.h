// Fréchet distance between two sets of feature vectors, each summarised by a Gaussian (mean and covariance):
//   d = |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))
// (ALGORITHMS §5.3; FID when the features are Inception pool3 activations, CLIP-FID on CLIP embeddings).
// The features are accumulated as float64 sums so that ranks can each add their share of the images and one
// all-reduce combines them, whatever the split.
#pragma once

#include <torch/types.h>

#include <cstdint>

#include "dist/communicator.h"

namespace rave::analysis {

class FeatureMoments {
 public:
  explicit FeatureMoments(int64_t dim);

  // Adds the rows of [N, dim] features (any floating dtype, any device).
  void add(const torch::Tensor& features);
  // Sums the moments of every rank (call on all ranks); afterwards every rank holds the totals.
  void all_reduce(dist::Communicator& communicator);

  int64_t dim() const { return sum_.size(0); }
  int64_t count() const;
  // float64 [dim]; and the unbiased covariance (divided by count - 1, as numpy.cov), float64 [dim, dim].
  torch::Tensor mean() const;
  torch::Tensor covariance() const;

 private:
  torch::Tensor sum_;    // [dim]
  torch::Tensor outer_;  // [dim, dim], sum of x x^T
  torch::Tensor count_;  // [1], float64 so it travels in the same collectives
};

// The distance of two Gaussians, computed in float64. The matrix square root comes from symmetric
// eigendecompositions: Tr((S1 S2)^(1/2)) = sum of sqrt(eigenvalues of S1^(1/2) S2 S1^(1/2)), which is symmetric
// positive semi-definite, so small negative eigenvalues (rounding, or rank-deficient covariances when there
// are fewer images than dimensions) are clamped to 0. The result is clamped at 0 for the same reason.
double frechet_distance(const torch::Tensor& mean1, const torch::Tensor& cov1, const torch::Tensor& mean2,
                        const torch::Tensor& cov2);
// The same from accumulated moments; UsageError when a set holds fewer than 2 vectors.
double frechet_distance(const FeatureMoments& a, const FeatureMoments& b);

}  // namespace rave::analysis
