// CLIP-LIT and CLIP-LIT-Latent as training methods (ALGORITHMS §4.5, launch/method.h): their own phases between
// the enhancer's, one step at a time (cross-entropy initialisation on the initialisation set, margin-ranking
// refinement on the margin set) with the pair's own Adam, whose gradients are averaged over the ranks like the
// enhancer's; the intermediate results of each guided round's best model under RUN_DIR/results/round<r>/; and
// their part of the checkpoint:
//   /optimizer/guidance/   the pair's Adam state
//   /clip_lit/             the schedule of launch/clip_lit_schedule.h, the guidance sampler's position, and
//                          best_enhancer/<name>: the weights of the current phase's latest best model
#pragma once

#include <memory>

#include "guidance/learned_pair.h"
#include "launch/method.h"

namespace rave::launch {

// `pair`: the method's learned pair (guidance::make_learned_pair).
std::unique_ptr<Method> make_clip_lit_method(const MethodParts& parts, std::unique_ptr<guidance::LearnedPair> pair);

}  // namespace rave::launch
