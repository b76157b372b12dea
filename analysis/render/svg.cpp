#include "analysis/render/svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "analysis/render/html.h"

namespace rave::analysis {
namespace {

std::string num(double v) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f", v);
  return text;
}

std::string open_svg(int width, int height, const std::string& title) {
  const std::string w = std::to_string(width), h = std::to_string(height);
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + w + "\" height=\"" + h +
         "\" style=\"max-width:100%;height:auto\" viewBox=\"0 0 " + w + " " + h +
         "\" role=\"img\" font-family=\"sans-serif\" font-size=\"12\"><title>" + html_escape(title) +
         "</title><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>";
}

std::string text(double x, double y, const std::string& content, const std::string& attributes = "") {
  return "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\"" + (attributes.empty() ? "" : " " + attributes) + ">" +
         html_escape(content) + "</text>";
}

// One polyline per run of finite points.
std::string series_paths(const Series& series, const Frame& f, const std::string& colour) {
  std::string out, points;
  const auto close = [&] {
    if (!points.empty()) {
      out += "<polyline fill=\"none\" stroke=\"" + colour + "\" stroke-width=\"1.5\" points=\"" + points + "\"/>";
    }
    points.clear();
  };
  for (size_t i = 0; i < series.x.size(); ++i) {
    if (!std::isfinite(series.y[i])) {
      close();
      continue;
    }
    points += (points.empty() ? "" : " ") + num(f.px(series.x[i])) + "," + num(f.py(series.y[i]));
  }
  close();
  return out;
}

}  // namespace

std::string chart_svg(const Chart& chart, int width, int height) {
  const Frame f = frame_for(chart, width, height);
  std::ostringstream out;
  out << open_svg(width, height, chart.title);
  for (const Band& band : chart.bands) {
    const double x0 = f.px(band.x0), x1 = f.px(band.x1);
    out << "<rect x=\"" << num(x0) << "\" y=\"" << num(f.top) << "\" width=\"" << num(std::max(x1 - x0, 1.0))
        << "\" height=\"" << num(f.bottom - f.top) << "\" fill=\"" << css_colour(band_colour(band.label)) << "\"/>";
    if (x1 - x0 > 8.0 * band.label.size()) {
      out << text(x0 + 4, f.top + 14, band.label, "fill=\"#666\" font-size=\"11\"");
    }
  }
  const double x_spacing = f.x_ticks.size() > 1 ? f.x_ticks[1] - f.x_ticks[0] : 1;
  const double y_spacing = f.y_ticks.size() > 1 ? f.y_ticks[1] - f.y_ticks[0] : 1;
  for (double t : f.y_ticks) {
    out << "<line x1=\"" << num(f.left) << "\" x2=\"" << num(f.right) << "\" y1=\"" << num(f.py(t)) << "\" y2=\""
        << num(f.py(t)) << "\" stroke=\"#ddd\"/>"
        << text(f.left - 6, f.py(t) + 4, tick_label(t, y_spacing), "text-anchor=\"end\"");
  }
  for (double t : f.x_ticks) {
    out << "<line x1=\"" << num(f.px(t)) << "\" x2=\"" << num(f.px(t)) << "\" y1=\"" << num(f.bottom) << "\" y2=\""
        << num(f.bottom + 4) << "\" stroke=\"#888\"/>"
        << text(f.px(t), f.bottom + 17, tick_label(t, x_spacing), "text-anchor=\"middle\"");
  }
  out << "<rect x=\"" << num(f.left) << "\" y=\"" << num(f.top) << "\" width=\"" << num(f.right - f.left)
      << "\" height=\"" << num(f.bottom - f.top) << "\" fill=\"none\" stroke=\"#888\"/>";
  out << text(f.left, 22, chart.title, "font-size=\"14\" font-weight=\"bold\"");
  out << text((f.left + f.right) / 2, height - 8.0, chart.x_label, "text-anchor=\"middle\"");
  out << text(-(f.top + f.bottom) / 2, 16, chart.y_label, "transform=\"rotate(-90)\" text-anchor=\"middle\"");
  if (chart.empty()) {
    out << text((f.left + f.right) / 2, (f.top + f.bottom) / 2, "not logged", "text-anchor=\"middle\" fill=\"#888\"");
  }
  for (size_t i = 0; i < chart.series.size(); ++i) {
    out << series_paths(decimate(chart.series[i], 2 * static_cast<size_t>(f.right - f.left)), f,
                        css_colour(series_colour(i)));
  }
  // Legend, top right inside the plot area, on a backing that keeps the curves from running through it.
  if (!chart.series.empty()) {
    out << "<rect x=\"" << num(f.right - 156) << "\" y=\"" << num(f.top + 4) << "\" width=\"150\" height=\""
        << num(8 + 16.0 * chart.series.size()) << "\" fill=\"#fff\" fill-opacity=\"0.85\" stroke=\"#ccc\"/>";
  }
  for (size_t i = 0; i < chart.series.size(); ++i) {
    const std::string colour = css_colour(series_colour(i));
    const double y = f.top + 16 + 16.0 * i, x = f.right - 150;
    out << "<line x1=\"" << num(x) << "\" x2=\"" << num(x + 20) << "\" y1=\"" << num(y - 4) << "\" y2=\"" << num(y - 4)
        << "\" stroke=\"" << colour << "\" stroke-width=\"2\"/>" << text(x + 26, y, chart.series[i].name);
  }
  out << "</svg>";
  return out.str();
}

std::string bar_chart_svg(const std::vector<Bar>& bars, const std::string& title, int width) {
  const double row = 20, top = 30, label_width = 170, value_width = 60;
  const int height = static_cast<int>(top + row * bars.size() + 10);
  const BarScale scale = bar_scale(bars, label_width, width - value_width);
  std::ostringstream out;
  out << open_svg(width, height, title) << text(8, 18, title, "font-size=\"14\" font-weight=\"bold\"");
  for (size_t i = 0; i < bars.size(); ++i) {
    const Bar& bar = bars[i];
    const double y = top + row * i;
    const double x0 = std::min(scale.px(0), scale.px(bar.value)), x1 = std::max(scale.px(0), scale.px(bar.value));
    out << text(label_width - 8, y + 14, bar.label, "text-anchor=\"end\"") << "<rect x=\"" << num(x0) << "\" y=\""
        << num(y + 3) << "\" width=\"" << num(std::max(x1 - x0, 1.0)) << "\" height=\"" << num(row - 6)
        << "\" fill=\"" << css_colour(bar.colour) << "\"/>" << text(x1 + 4, y + 14, tick_label(bar.value, 0.001));
  }
  out << "<line x1=\"" << num(scale.px(0)) << "\" x2=\"" << num(scale.px(0)) << "\" y1=\"" << num(top) << "\" y2=\""
      << num(top + row * bars.size()) << "\" stroke=\"#444\"/></svg>";
  return out.str();
}

}  // namespace rave::analysis
