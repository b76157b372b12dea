// Line charts as data, drawn twice: as inline SVG in the HTML report (svg.h) and as PNG files (plot.h). Both
// renderers take their geometry from Frame, so a chart looks the same in either form. training_charts turns
// a training log into the charts of a run: losses and PSNR_Y over steps (with the training stages as
// background bands) and throughput over time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analysis/render/run_log.h"

namespace rave::analysis {

struct Series {
  std::string name;
  std::vector<double> x, y;  // same length; non-finite y values leave a gap
};

// A background interval of the x axis (a training stage).
struct Band {
  double x0, x1;
  std::string label;
};

struct Chart {
  std::string id;  // file and anchor name: "losses", "psnr", "throughput"
  std::string title, x_label, y_label;
  std::vector<Series> series;
  std::vector<Band> bands;

  // No series with a finite point.
  bool empty() const;
};

struct Rgb {
  uint8_t r, g, b;
};

// Colour of the i-th series (a palette that stays apart for colour-blind readers), and of a stage band.
Rgb series_colour(std::size_t i);
Rgb band_colour(const std::string& stage);
std::string css_colour(const Rgb& colour);  // "#rrggbb"

// One bar of a horizontal bar chart (the residual's top and bottom vocabulary tokens), drawn by svg.h and
// bar_plot.h.
struct Bar {
  std::string label;
  double value;
  Rgb colour;
};

// The value axis of a horizontal bar chart: a range that always holds 0 (bars grow from it), mapped onto the
// pixels [left, right]. Shared by both renderers so that the SVG and the PNG agree.
struct BarScale {
  double lo, hi, left, right;

  double px(double value) const { return left + (value - lo) / (hi - lo) * (right - left); }
};
BarScale bar_scale(const std::vector<Bar>& bars, double left, double right);

// 1, 2 or 5 times a power of ten, about `target` ticks covering [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int target = 5);
// A tick value printed with just the decimals its spacing needs ("0.25", "1500", "2e-05").
std::string tick_label(double value, double spacing);

// Where a chart's plot area lies in a width x height picture and how data map onto it. The axis ranges cover
// every finite point and band, widened to the outer ticks.
struct Frame {
  double left, top, right, bottom;  // plot area in pixels
  double x0, x1, y0, y1;            // data range
  std::vector<double> x_ticks, y_ticks;

  double px(double x) const;
  double py(double y) const;
};
Frame frame_for(const Chart& chart, int width, int height);

// At most about `max_points` points per series for drawing: per bucket of x the first, minimum, maximum and
// last points, so spikes survive.
Series decimate(const Series& series, std::size_t max_points);

// Charts "losses" (loss, guidance_loss, identity_loss over step), "psnr" (psnr_y over step) and "throughput"
// (images_per_second over minutes since the start); a chart whose keys were never logged is empty.
std::vector<Chart> training_charts(const RunLog& log);

}  // namespace rave::analysis
