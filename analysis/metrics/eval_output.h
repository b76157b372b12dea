// The three outputs of `rave eval`: a summary table for the terminal, one CSV row per image pair, and a JSON
// summary (per-metric mean, standard deviation, minimum and maximum with the metric's definition, the set-level
// distances, and the files that had no partner).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "analysis/metrics/evaluate.h"

namespace rave::analysis {

std::string summary_table(const EvalResult& result);

// Header: stem, pred, gt, then the metric columns; numbers with 6 decimals, fields quoted when needed. Missing
// parent folders are created.
void write_per_image_csv(const std::filesystem::path& path, const EvalResult& result);

// NaN values (a Fréchet distance of too few images) become null.
nlohmann::ordered_json summary_json(const EvalResult& result);

}  // namespace rave::analysis
