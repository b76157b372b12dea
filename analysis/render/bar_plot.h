// Horizontal bar charts as PNG files (`rave analyze --chart`): the geometry of bar_chart_svg (svg.h), drawn with
// OpenCV. Its Hershey fonts have no glyphs beyond ASCII, so other characters of a label are drawn as '?'.
#pragma once

#include <filesystem>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "analysis/render/chart.h"

namespace rave::analysis {

// A BGR 8-bit picture: title, one row per bar with its label on the left and its value after the bar.
cv::Mat render_bar_chart(const std::vector<Bar>& bars, const std::string& title, int width = 900);

// Writes the picture as PNG (parent folders created); IoError naming the file when that fails.
void write_bar_chart_png(const std::filesystem::path& path, const std::vector<Bar>& bars, const std::string& title,
                         int width = 900);

}  // namespace rave::analysis
