// Linear algebra on directions of the embedding space, in float64: an orthonormal basis of a set of directions
// (Gram-Schmidt), the part of a vector outside their span, and the share of a vector that lies inside it. The
// analysis measures bias with these and the correction removes it with them.
#pragma once

#include <torch/types.h>

namespace rave::analysis {

// An orthonormal basis [K, D] (float64, K <= rows) of the span of the rows of `directions` [N, D]: modified
// Gram-Schmidt run twice per row (so the basis stays orthogonal to rounding for nearly dependent rows); a row
// that lies in the span of the earlier ones (less than 1e-5 of its norm outside it) adds nothing.
torch::Tensor orthonormal_basis(const torch::Tensor& directions);

// n(v − Σ <q_k, v> q_k) for the rows q_k of `basis` (orthonormal, from orthonormal_basis): unit, orthogonal to
// the span. Throws rave::Error when v lies inside the span (nothing would be left).
torch::Tensor remove_span(const torch::Tensor& v, const torch::Tensor& basis);

// |P v|² / |v|², the share of v's squared norm in the span of `basis` (0..1).
double explained_share(const torch::Tensor& v, const torch::Tensor& basis);

// v / |v| in float64 (rows of a matrix each normalised).
torch::Tensor unit(const torch::Tensor& v);

}  // namespace rave::analysis
