#include "dist/per_rank.h"

#include <torch/torch.h>

namespace rave::dist {

torch::Tensor gather_rows(Communicator& communicator, const torch::Tensor& row) {
  torch::Tensor rows = torch::zeros({communicator.world_size(), row.numel()}, torch::kFloat64);
  rows[communicator.rank()] = row.to(torch::kFloat64).reshape({-1});
  communicator.all_reduce_sum(rows);
  return rows;
}

}  // namespace rave::dist
