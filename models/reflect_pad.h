// Reflect padding by one pixel on each side of [N,C,H,W] maps: the padding of the enhancer's 3x3 convolutions.
//
// On the CPU it runs rave's own kernel, forward and backward, on NCHW and on channels-last maps (the result keeps
// the input's layout): a copy per row, where LibTorch 1.13's reflection_pad2d computes an index per element (2-6x
// slower forward and backward on a 2x64x256x256 NCHW map, slower still on channels last) and LibTorch 2.x's
// backward is 3x slower. The forward is bit-identical to torch::reflection_pad2d; the backward sums the same terms
// (up to four next to a corner, two along an edge) in a fixed order, in the gradient's own type (bfloat16 under
// autocast, where LibTorch 1.13 pads in float32). Elsewhere (CUDA, H or W below 2, sparse) it is
// torch::reflection_pad2d itself, errors included.
#pragma once

#include <torch/torch.h>

namespace rave::models {

torch::Tensor reflect_pad1(const torch::Tensor& x);

}  // namespace rave::models
