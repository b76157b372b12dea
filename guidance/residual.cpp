#include "guidance/residual.h"

#include <torch/torch.h>

#include "core/error.h"

namespace rave::guidance {
namespace {

torch::Tensor normalised(const torch::Tensor& v) { return v / v.norm(); }

}  // namespace

ResidualVector residual_from_sums(const torch::Tensor& sum_pos, int64_t n_pos, const torch::Tensor& sum_neg,
                                  int64_t n_neg) {
  if (n_pos <= 0 || n_neg <= 0) {
    throw Error("residual vector: needs at least one well-lit and one backlit image (got " + std::to_string(n_pos) +
                " and " + std::to_string(n_neg) + ")");
  }
  if (sum_pos.sizes() != sum_neg.sizes() || sum_pos.dim() != 1) {
    throw Error("residual vector: embedding sums must be [D] vectors of equal size, got " +
                c10::str(sum_pos.sizes()) + " and " + c10::str(sum_neg.sizes()));
  }
  const torch::Tensor v_pos = normalised(sum_pos.to(torch::kFloat64) / double(n_pos));
  const torch::Tensor v_neg = normalised(sum_neg.to(torch::kFloat64) / double(n_neg));
  const torch::Tensor difference = v_pos - v_neg;
  if (difference.norm().item<double>() == 0) {
    throw Error("residual vector: the well-lit and backlit mean embeddings are identical",
                "the two folders hold the same images?");
  }
  const torch::Tensor r = normalised(difference);
  return {r.to(torch::kFloat32), v_pos.to(torch::kFloat32), v_neg.to(torch::kFloat32),
          torch::dot(v_pos, r).item<double>(), n_pos, n_neg};
}

}  // namespace rave::guidance
