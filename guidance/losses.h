// The loss building blocks of ALGORITHMS §4.1, batched (no per-sample loops) with the reference's reductions:
// guidance losses are means over the batch, the identity distance is a sum over the batch. They take CLIP
// features, not images, so each method composes them with whatever encoder it uses. Their weights and scales:
// guidance/loss_weights.h.
#pragma once

#include <torch/types.h>

#include <vector>

#include "guidance/loss_weights.h"

namespace rave::guidance {

// logits(f) = 100 * [<f, n(g0)>, <f, n(g1)>] for features [B, D] and guidance pair [2, D] (0 = backlit).
torch::Tensor guidance_logits(const torch::Tensor& features, const torch::Tensor& pair);

// s(f) = softmax(logits(f))[0]: the probability of "backlit", [B].
torch::Tensor backlit_probability(const torch::Tensor& features, const torch::Tensor& pair);

// CLIP-LIT guidance loss: 320 * mean_i s(n(f_i)). `features` are raw encoder outputs (normalised here).
torch::Tensor clip_lit_loss(const torch::Tensor& features, const torch::Tensor& pair);

// RAVE guidance loss: 320 * mean_i (<n(f_i), n(r)> - tau)^2.
torch::Tensor rave_loss(const torch::Tensor& features, const torch::Tensor& residual, double tau);

// D(E, x) = sum_i sum_k w_k * mean_{c,h,w} (a_k[i] - b_k[i])^2 for two lists of feature taps [B, C, h, w]
// (unscaled: the callers multiply by kIdentityLossWeight).
torch::Tensor identity_distance(const std::vector<torch::Tensor>& enhanced_taps,
                                const std::vector<torch::Tensor>& input_taps, const std::vector<double>& weights);

// MR_m(a, b) = mean_i max(0, m - (a_i - b_i)): asks a to exceed b by the margin m.
torch::Tensor margin_ranking(const torch::Tensor& a, const torch::Tensor& b, double margin);

// The refinement loss of CLIP-LIT on backlit probabilities of the tuple (inp[, semi1[, semi2]], ref),
// 200 * the sum of the margin terms of ALGORITHMS §4.1.5 with the margins of the tuple size.
// Pass undefined tensors for the semi results that do not exist yet.
torch::Tensor ranking_loss(const torch::Tensor& s_input, const torch::Tensor& s_reference,
                           const torch::Tensor& s_semi1 = {}, const torch::Tensor& s_semi2 = {});

// Guidance initialisation: cross-entropy of the guidance logits of unit features with labels
// (0 = backlit, 1 = well-lit), mean over the batch.
torch::Tensor guidance_init_loss(const torch::Tensor& unit_features, const torch::Tensor& labels,
                                 const torch::Tensor& pair);

}  // namespace rave::guidance
