// Every weight and scale of the training losses (ALGORITHMS §4.1, §4.2.2, §4.4), in one place. The reference
// scatters them over its training scripts; here each is named once and the loss code refers to it.
//
//   enhancer step:  loss = L_id                      during the reconstruction warm-up
//                   loss = w·G + 0.9·L_id             after it, w = kRaveGuidanceWeight or kClipLitGuidanceWeight
//   L_id = 25 · Σ_k w_k · mean (a_k(E) - a_k(x))²    identity distance over the identity encoder's five taps
//   G    = 320 · guidance term                        (RAVE: squared distance to τ; CLIP-LIT: backlit probability)
//   refinement: 200 · margin ranking loss of the guidance pair
#pragma once

#include <vector>

namespace rave::guidance {

// Logit scale of the two-vector score: the reference uses the constant 100, not CLIP's logit_scale.
inline constexpr double kGuidanceLogitScale = 100.0;
// 16 * 20: the weight of the guidance terms in the reference training scripts.
inline constexpr double kGuidanceLossWeight = 320.0;
// The scale of the identity / reconstruction distance.
inline constexpr double kIdentityLossWeight = 25.0;
// Weight of the margin-ranking loss of the guidance refinement.
inline constexpr double kRankingLossWeight = 200.0;
// Per-tap weights of the identity distance D (stem, layer1..layer4): after the warm-up, and during it.
inline const std::vector<double> kIdentityWeights = {1, 1, 1, 1, 0.5};
inline const std::vector<double> kReconstructionWeights = {1, 1, 1, 1, 1};
// Weight of the identity term next to the guidance term of a guided step.
inline constexpr double kIdentityTermWeight = 0.9;
// w, the weight of the guidance term G in a guided step: 6 for RAVE, 1 for CLIP-LIT and CLIP-LIT-Latent.
inline constexpr double kRaveGuidanceWeight = 6.0;
inline constexpr double kClipLitGuidanceWeight = 1.0;

}  // namespace rave::guidance
