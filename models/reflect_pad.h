// Reflect padding by one pixel on each side of [N,C,H,W] maps: the padding of the enhancer's 3x3 convolutions.
//
// On the CPU it runs rave's own kernel, forward and backward: a row-wise copy per plane, where LibTorch 1.13's
// reflection_pad2d computes an index per element (5-6x slower forward and backward on a 2x64x256x256 map) and
// LibTorch 2.x's backward is 3x slower. The forward is bit-identical to torch::reflection_pad2d; the backward sums
// the same terms (a corner's four, an edge's two) in a fixed order. Elsewhere (CUDA, H or W below 2, sparse) it is
// torch::reflection_pad2d itself, errors included.
#pragma once

#include <torch/torch.h>

namespace rave::models {

torch::Tensor reflect_pad1(const torch::Tensor& x);

}  // namespace rave::models
