#include "guidance/latent_pair.h"

#include <torch/torch.h>

namespace rave::guidance {

LatentPair::LatentPair(int64_t dim) : LearnedPair("guidance_embeddings", torch::randn({2, dim})) { freeze(); }

}  // namespace rave::guidance
