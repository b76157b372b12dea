// Charts as PNG files (`rave plot`), drawn with OpenCV's imgproc in the geometry of chart.h, for papers, slides
// and terminals that show images.
#pragma once

#include <filesystem>
#include <opencv2/core.hpp>
#include <vector>

#include "analysis/render/chart.h"

namespace rave::analysis {

// A BGR 8-bit picture of the chart.
cv::Mat render_chart(const Chart& chart, int width, int height);

// Writes <out_dir>/<chart id>.png (width x height pixels) for every non-empty training chart of
// RUN_DIR/metrics.jsonl and returns the paths. IoError when the log is missing or a file cannot be written.
std::vector<std::filesystem::path> plot_run(const std::filesystem::path& run_dir, const std::filesystem::path& out_dir,
                                            int width, int height);

}  // namespace rave::analysis
