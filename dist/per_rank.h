// Figures each rank measured for itself (peak memory, seconds, failures), collected on every rank so that rank 0
// can report the job: the largest peak, the slowest rank, the total count.
#pragma once

#include <torch/types.h>

#include "dist/communicator.h"

namespace rave::dist {

// Row r of the result [world_size, n] is rank r's `row` ([n], float64). Collective: every rank calls it with a
// row of the same length. It is one all-reduce of rows that are zero but for each rank's own.
torch::Tensor gather_rows(Communicator& communicator, const torch::Tensor& row);

}  // namespace rave::dist
