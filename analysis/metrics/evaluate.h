// The metrics of `rave eval` over paired image folders: per-image full-reference metrics (metrics.h), optional
// LPIPS and CLIP prompt scores, and set-level Fréchet distances (CLIP-FID, Inception-FID). Ranks split the
// pairs (pair i goes to rank i mod N); per-image rows and feature moments are summed across ranks, so every
// rank ends with the whole table, in pair order, whatever the number of ranks.
#pragma once

#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

#include "analysis/metrics/pairing.h"
#include "dist/context.h"

namespace rave::analysis {

struct EvalOptions {
  std::string clip;             // CLIP file for CLIP-FID and the prompt score; empty: no CLIP metrics
  std::string vocab;            // BPE merges file for the prompt score; empty: CLIP-FID only
  std::string lpips_model;      // TorchScript LPIPS; empty: no LPIPS
  std::string inception_model;  // TorchScript Inception pool3; empty: no Inception-FID
  int64_t batch_size = 16;      // images per CLIP / Inception forward pass
};

struct EvalResult {
  Pairing pairing;
  std::vector<std::string> columns;                       // per-image metrics, in table order
  torch::Tensor values;                                   // float64 [pairs, columns]
  std::vector<std::pair<std::string, double>> set_metrics;  // NaN when a set is too small
};

// Runs on every rank of `context` (null: a single process on the CPU).
EvalResult evaluate(const Pairing& pairing, const EvalOptions& options, const dist::Context* context);

// A one-line definition of every metric name evaluate() produces, for the JSON summary.
std::string metric_definition(const std::string& name);

}  // namespace rave::analysis
