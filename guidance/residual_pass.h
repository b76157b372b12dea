// The distributed residual pass of RAVE (ALGORITHMS §4.6.1, ARCHITECTURE §2): each rank embeds its exact
// shard of the backlit and well-lit folders with the guidance encoder (variant B preprocessing, unit-norm
// embeddings), sums them in float64, and one all-reduce of sums and counts gives every rank the same residual
// vector, independent of the number of ranks. Unreadable files are skipped and counted (by io::ImageFolder).
#pragma once

#include "dist/communicator.h"
#include "guidance/encoders.h"
#include "guidance/residual.h"
#include "io/dataset.h"

namespace rave::guidance {

struct ResidualPassOptions {
  int64_t batch_size = 32;
  torch::Device device = torch::kCPU;
  bool show_progress = true;  // rank 0 only
};

ResidualVector compute_residual(GuidanceEncoder& encoder, io::ImageFolder& backlit, io::ImageFolder& welllit,
                                dist::Communicator& communicator, const ResidualPassOptions& options = {});

}  // namespace rave::guidance
