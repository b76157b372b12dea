// Charts as inline SVG for the HTML report: line charts (chart.h) and horizontal bar charts (the residual's
// top and bottom vocabulary tokens). Plain SVG 1.1 with no scripts or external fonts, so it displays offline.
#pragma once

#include <string>
#include <vector>

#include "analysis/render/chart.h"

namespace rave::analysis {

std::string chart_svg(const Chart& chart, int width = 1000, int height = 340);

// One row per bar, labels on the left, bars from a zero line (negative values to its left).
std::string bar_chart_svg(const std::vector<Bar>& bars, const std::string& title, int width = 760);

}  // namespace rave::analysis
