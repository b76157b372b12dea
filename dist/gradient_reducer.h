// Data parallelism: after backward, every rank's gradients are replaced by their mean over the ranks, so the
// same optimizer step on every rank keeps the replicas identical, and N ranks with batch b train like one
// process with batch N*b (for a loss that is a per-sample mean). Gradients travel in a few large buckets,
// one collective each, instead of one collective per parameter.
#pragma once

#include <torch/types.h>
// after types.h: ordered_dict.h uses TORCH_CHECK without including it
#include <torch/ordered_dict.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dist/communicator.h"

namespace rave::dist {

struct GradientReducerOptions {
  // Bucket size in bytes (PyTorch DDP's default), and a smaller first bucket: it fills with the last layers'
  // gradients, the first ones backward produces.
  int64_t bucket_bytes = int64_t{25} << 20;
  int64_t first_bucket_bytes = int64_t{1} << 20;
};

class GradientReducer {
 public:
  // Registers the parameters once. Every rank must pass the same names in the same order
  // (module->named_parameters() of identically built modules does), which makes the buckets identical.
  // Parameters that do not require gradients take part in broadcast_parameters() and the sync check only.
  GradientReducer(Communicator& communicator, const torch::OrderedDict<std::string, torch::Tensor>& parameters,
                  GradientReducerOptions options = {});

  // Copies `root`'s parameter values to every rank, so that replicas start identical whatever their own
  // initialisation. Call once before training.
  void broadcast_parameters(int root = 0);

  // Replaces every gradient by its mean over the ranks; call after backward, before the optimizer step.
  // A parameter without a gradient on some rank counts as a zero gradient there; one without a gradient on
  // every rank keeps none (the optimizer then skips it, as a single process would).
  void reduce();

  // Throws DistError naming the parameters whose bytes differ from rank 0's on any rank (every rank throws
  // the same). Compares 64-bit hashes: two collectives of one int64 per parameter. --check-sync-every N.
  void check_parameters_in_sync();

  // Parameter names per bucket, in reduction order.
  std::vector<std::vector<std::string>> bucket_layout() const;

 private:
  struct Bucket {
    std::vector<size_t> members;   // indices into parameters_
    std::vector<int64_t> offsets;  // of each member's gradient in buffer
    int64_t numel = 0;             // gradient elements; buffer has one more element per member (see reduce)
    torch::Tensor buffer;
  };
  void add_bucket(Bucket bucket);

  Communicator& communicator_;
  std::vector<std::string> names_;
  std::vector<torch::Tensor> parameters_;
  std::vector<Bucket> buckets_;
};

}  // namespace rave::dist
