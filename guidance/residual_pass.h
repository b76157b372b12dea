// The distributed residual pass of RAVE (ALGORITHMS §4.6.1, ARCHITECTURE §2): each rank embeds its exact
// shard of the backlit and well-lit folders with the guidance encoder (variant B preprocessing, unit-norm
// embeddings), sums them in float64, and one all-reduce of sums and counts gives every rank the same residual
// vector, independent of the number of ranks. Unreadable files are skipped and counted (by io::ImageFolder).
//
// On each rank the images of both folders are dealt into batches that one worker per intra-op thread decodes,
// preprocesses and encodes with one thread of its own (guidance/ordered_workers.h): the encoder's
// preprocess_file_image and encode are called from several threads at once. The batches' sums are added in a
// fixed order, so a run repeats bit for bit; other numbers of ranks or threads cut other batches, which moves the
// vector by float rounding only. An error of a worker (other than an unreadable file) ends the pass and reaches
// the caller with its message.
#pragma once

#include "dist/communicator.h"
#include "guidance/encoders.h"
#include "guidance/residual.h"
#include "io/dataset.h"

namespace rave::guidance {

struct ResidualPassOptions {
  int64_t batch_size = 32;  // the most images one encode call sees
  torch::Device device = torch::kCPU;
  bool show_progress = true;  // rank 0 only
};

ResidualVector compute_residual(GuidanceEncoder& encoder, io::ImageFolder& backlit, io::ImageFolder& welllit,
                                dist::Communicator& communicator, const ResidualPassOptions& options = {});

}  // namespace rave::guidance
