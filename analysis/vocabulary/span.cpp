#include "analysis/vocabulary/span.h"

#include <torch/torch.h>

#include <vector>

#include "core/error.h"

namespace rave::analysis {
namespace {

// Below this share of its norm outside the span, a row counts as dependent: float32 rounding of a combination
// of earlier rows leaves about 1e-7.
constexpr double kDependent = 1e-5;

}  // namespace

torch::Tensor unit(const torch::Tensor& v) {
  const torch::Tensor x = v.to(torch::kFloat64);
  return x / x.norm(2, -1, true);
}

torch::Tensor orthonormal_basis(const torch::Tensor& directions) {
  const torch::Tensor rows = directions.to(torch::kFloat64).reshape({-1, directions.size(-1)});
  std::vector<torch::Tensor> basis;
  for (int64_t i = 0; i < rows.size(0); ++i) {
    const double norm = rows[i].norm().item<double>();
    if (norm == 0) continue;
    torch::Tensor q = rows[i] / norm;
    for (int pass = 0; pass < 2; ++pass) {
      for (const torch::Tensor& b : basis) q = q - b.dot(q) * b;
    }
    const double left = q.norm().item<double>();
    if (left > kDependent) basis.push_back(q / left);
  }
  if (basis.empty()) return torch::zeros({0, rows.size(1)}, torch::kFloat64);
  return torch::stack(basis);
}

torch::Tensor remove_span(const torch::Tensor& v, const torch::Tensor& basis) {
  torch::Tensor x = v.to(torch::kFloat64).flatten();
  const double norm = x.norm().item<double>();
  for (int pass = 0; pass < 2; ++pass) x = x - torch::mv(basis.t(), torch::mv(basis, x));
  const double left = x.norm().item<double>();
  if (!(left > kDependent * norm)) {
    throw Error("the vector lies inside the span of the removed directions: nothing is left of it",
                "remove fewer directions");
  }
  return x / left;
}

double explained_share(const torch::Tensor& v, const torch::Tensor& basis) {
  const torch::Tensor x = v.to(torch::kFloat64).flatten();
  return torch::mv(basis, x).pow(2).sum().item<double>() / x.dot(x).item<double>();
}

}  // namespace rave::analysis
