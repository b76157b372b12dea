// The options of the two learned-guidance methods (ALGORITHMS §4.2.1, §4.3, §4.4) that RAVE does not have.
#pragma once

#include <cstdint>
#include <string>

#include "launch/clip_lit_schedule.h"

namespace rave::launch {

struct ClipLitOptions {
  std::string vocab;               // BPE merges file: CLIP-LIT tokenises its initial prompt with it
  ClipLitScheduleOptions schedule;  // initialisation and refinement lengths, +100 extensions above 60
  int64_t batch_size = 16;         // guidance images (or tuples) per rank per step
  int64_t image_size = 256;        // side of the guidance images and intermediate results (256 in the reference)
  double learning_rate = 0;        // 0: the method's own (5e-6 prompts, 5e-4 latent vectors)
  double weight_decay = 1e-3;      // Adam, coupled (L2), as the reference's torch.optim.Adam
};

// "clip-lit" or "clip-lit-latent".
inline bool is_clip_lit_method(const std::string& method) {
  return method == "clip-lit" || method == "clip-lit-latent";
}

}  // namespace rave::launch
