// The two datasets the learned guidance trains on (ALGORITHMS §3.4, §3.5), as index-addressed sets whose items
// a ShardSampler hands out, so that ranks split them and resume continues them like the enhancer's data:
//
//   InitialisationSet (D_add)   backlit images labelled 0 and well-lit images labelled 1, the shorter list
//                               cycled to the longer one's length m (2m items);
//   MarginSet (D_margin)        m tuples (backlit input[, newest result[, older result]], well-lit reference):
//                               both lists cycled to m and shuffled independently once (a random pairing fixed
//                               for the set's lifetime, even for paired data), the results being the
//                               intermediate results of earlier rounds for the same input (intermediate_results.h).
//
// Every image is the 256x256 Lanczos resize, augmented (§3.3, zoom 0.5-1.5; one set of draws shared by the
// images of a tuple) from draws seeded by (seed, epoch, item). unit_features() then embeds a whole batch at once
// on the rank's device (variant A, the guidance encoder, L2 normalisation), without gradients: the guidance
// phases only ever train the pair.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <vector>

#include "guidance/encoders.h"
#include "guidance/resized_images.h"
#include "models/clip/precision.h"

namespace rave::guidance {

// Items drawn for one batch and the sampler epoch each was drawn in (the epoch seeds its augmentation).
struct ItemDraw {
  int64_t item = 0;
  int64_t epoch = 0;
};

struct InitialisationBatch {
  torch::Tensor images;  // float32 [n, 3, S, S] in [0, 1]
  torch::Tensor labels;  // int64 [n]: 0 backlit, 1 well-lit
};

class InitialisationSet {
 public:
  InitialisationSet(ResizedImages& backlit, ResizedImages& welllit, uint64_t seed);
  int64_t size() const { return 2 * length_; }
  // Unreadable files are left out, so n can be smaller than draws.size() (zero: undefined tensors).
  InitialisationBatch load(const std::vector<ItemDraw>& draws);

 private:
  ResizedImages& backlit_;
  ResizedImages& welllit_;
  uint64_t seed_;
  int64_t length_;  // m = max(n_backlit, n_welllit)
};

class MarginSet {
 public:
  // `results`: folders of intermediate results, newest first (none, one or two: 2-, 3- or 4-image tuples).
  // `pairing_seed` fixes the pairing of inputs and references; `seed` the augmentation draws.
  MarginSet(ResizedImages& backlit, ResizedImages& welllit, std::vector<std::filesystem::path> results,
            uint64_t pairing_seed, uint64_t seed);
  int64_t size() const { return int64_t(inputs_.size()); }
  int tuple_size() const { return int(results_.size()) + 2; }
  // Per tuple member, in the order input, results (newest first), reference: float32 [n, 3, S, S]. Items whose
  // input, reference or a result cannot be read are left out of every member.
  std::vector<torch::Tensor> load(const std::vector<ItemDraw>& draws);

  // The backlit file index and the well-lit file index of item i (the fixed pairing).
  std::pair<int64_t, int64_t> pair(int64_t item) const { return {inputs_[size_t(item)], references_[size_t(item)]}; }

 private:
  std::optional<torch::Tensor> result(size_t folder, int64_t backlit_index);

  ResizedImages& backlit_;
  ResizedImages& welllit_;
  std::vector<std::filesystem::path> results_;
  uint64_t seed_;
  std::vector<int64_t> inputs_, references_;
  std::map<std::pair<size_t, int64_t>, std::optional<torch::Tensor>> result_cache_;
};

// n(Φ(images)) for a batch [n, 3, S, S] in [0, 1], computed on `device` without gradients: [n, D], float32
// (the encoder under bf16 autocast for Precision::kBFloat16; the normalisation in float32 either way).
torch::Tensor unit_features(GuidanceEncoder& encoder, const torch::Tensor& images, const torch::Device& device,
                            models::Precision precision = models::Precision::kFloat32);

}  // namespace rave::guidance
