// Bias correction of a residual vector r (`rave correct`). Each operation returns a unit vector r' and the
// threshold τ = <v_pos, r'> recomputed for it (ALGORITHMS §4.6.1 step 5); v_pos, v_neg and the counts stay.
//
//   shift by n tokens (ALGORITHMS §4.6.3, the reference's "remove first n tokens" with its bugs fixed: n is
//   used instead of a hard-coded 15, and the bottom list is the n lowest scores): with c_s = <n(u_s), r> over
//   the distinct decoded texts, A = the n texts of largest c_s, Z = the n of smallest c_s,
//       a = n(mean_{s∈A} c_s·u_s),  z = n(mean_{s∈Z} c_s·u_s),  d = n(a + z),  r' = n(r − <d, r>·d)
//   remove phrase directions: q_1..q_K = Gram-Schmidt of the phrase embeddings, r' = n(r − Σ <q_k, r>·q_k)
//   add a phrase direction:   r' = n(r + w·n(u))
// Arithmetic in float64; r' is stored as float32.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "analysis/vocabulary/token_ranking.h"
#include "analysis/vocabulary/vocabulary.h"
#include "guidance/residual.h"

namespace rave::analysis {

struct Correction {
  guidance::ResidualVector vector;  // the corrected r' and its τ; v_pos, v_neg and counts of the source
  torch::Tensor removed;            // orthonormal basis [K, D] (float64) of the removed span; [0, D] for an addition
};

struct TokenShift : Correction {
  std::vector<TokenMatch> removing;  // A, largest score first
  std::vector<TokenMatch> adding;    // Z, smallest score first
  torch::Tensor direction;           // d [D] float64
};

TokenShift shift_by_tokens(const VocabularyEmbeddings& vocabulary, const guidance::ResidualVector& source, int64_t n);

// `directions` [K, D]: phrase embeddings (un-normalised).
Correction remove_directions(const guidance::ResidualVector& source, const torch::Tensor& directions);

Correction add_direction(const guidance::ResidualVector& source, const torch::Tensor& direction, double weight);

}  // namespace rave::analysis
