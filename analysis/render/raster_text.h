// Text on OpenCV rasters, shared by the line plots (plot.cpp) and the bar charts (bar_plot.cpp).
#pragma once

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <string>

namespace rave::analysis::raster {

constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
constexpr double kScale = 0.45;
inline const cv::Scalar kInk(40, 40, 40);

// The nearest pixel of a point in chart coordinates.
cv::Point at(double x, double y);

// putText has glyphs for printable ASCII only: every other UTF-8 sequence becomes one '?', a line break a
// visible "\n".
std::string drawable(const std::string& text);

// Text with its anchor: align 0 = left, 0.5 = centred, 1 = right; y is the baseline.
void put(cv::Mat& image, const std::string& content, double x, double y, double align = 0, double scale = kScale,
         const cv::Scalar& colour = kInk, int thickness = 1);

}  // namespace rave::analysis::raster
