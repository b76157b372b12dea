#include "analysis/render/chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace rave::analysis {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Range {
  double lo = kInf, hi = -kInf;
  void add(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool valid() const { return lo <= hi; }
};

// A range with room to draw: a single value gets a unit (or 10 %) interval around it.
Range widened(Range r) {
  if (!r.valid()) return {0, 1};
  if (r.hi > r.lo) return r;
  const double pad = r.lo == 0 ? 1 : std::abs(r.lo) * 0.1;
  return {r.lo - pad, r.hi + pad};
}

Series series_of(const RunLog& log, const std::string& key, const std::string& x_key, double x_scale) {
  Series s{key, {}, {}};
  for (const MetricRecord& record : log.records) {
    const auto y = record.value(key);
    const auto x = x_key.empty() ? std::optional<double>(double(record.step)) : record.value(x_key);
    if (!y || !x) continue;  // keys may be logged only on some steps; connect the points that exist
    s.x.push_back(*x * x_scale);
    s.y.push_back(*y);
  }
  return s;
}

std::vector<Band> stage_bands(const RunLog& log) {
  std::vector<Band> bands;
  for (const MetricRecord& record : log.records) {
    const double step = double(record.step);
    if (!bands.empty()) bands.back().x1 = step;  // a stage lasts until the next one starts
    if (bands.empty() || bands.back().label != record.stage) bands.push_back({step, step, record.stage});
  }
  bands.erase(std::remove_if(bands.begin(), bands.end(), [](const Band& b) { return b.label.empty(); }), bands.end());
  return bands;
}

}  // namespace

bool Chart::empty() const {
  for (const Series& s : series) {
    if (std::any_of(s.y.begin(), s.y.end(), [](double v) { return std::isfinite(v); })) return false;
  }
  return true;
}

Rgb series_colour(std::size_t i) {
  // Okabe and Ito's palette.
  static const Rgb palette[] = {{0, 114, 178}, {213, 94, 0}, {0, 158, 115}, {204, 121, 167},
                                {230, 159, 0}, {86, 180, 233}, {0, 0, 0}};
  return palette[i % (sizeof(palette) / sizeof(palette[0]))];
}

Rgb band_colour(const std::string& stage) {
  if (stage == "reconstruction") return {236, 236, 236};
  if (stage == "guided") return {226, 238, 250};
  if (stage == "guidance-init") return {253, 239, 222};
  if (stage == "guidance-refine") return {228, 245, 234};
  return {244, 244, 244};
}

std::string css_colour(const Rgb& c) {
  char text[8];
  std::snprintf(text, sizeof(text), "#%02x%02x%02x", c.r, c.g, c.b);
  return text;
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  const Range r = widened({lo, hi});
  const double raw = (r.hi - r.lo) / std::max(target, 1);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / magnitude;
  const double step = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * magnitude;
  std::vector<double> ticks;
  const int64_t first = static_cast<int64_t>(std::floor(r.lo / step + 1e-9));
  const int64_t last = static_cast<int64_t>(std::ceil(r.hi / step - 1e-9));
  for (int64_t k = first; k <= last; ++k) ticks.push_back(k * step);
  return ticks;
}

std::string tick_label(double value, double spacing) {
  char text[32];
  if (std::abs(value) < spacing * 1e-6) value = 0;  // no "-0.00"
  if (spacing > 0 && (spacing < 1e-4 || std::abs(value) >= 1e6)) {
    std::snprintf(text, sizeof(text), "%g", value);
  } else {
    const int decimals = spacing > 0 ? std::max(0, static_cast<int>(-std::floor(std::log10(spacing) + 1e-9))) : 0;
    std::snprintf(text, sizeof(text), "%.*f", decimals, value);
  }
  return text;
}

double Frame::px(double x) const { return left + (x - x0) / (x1 - x0) * (right - left); }
double Frame::py(double y) const { return bottom - (y - y0) / (y1 - y0) * (bottom - top); }

Frame frame_for(const Chart& chart, int width, int height) {
  Range xr, yr;
  for (const Series& s : chart.series) {
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.y[i])) continue;
      xr.add(s.x[i]);
      yr.add(s.y[i]);
    }
  }
  for (const Band& b : chart.bands) {
    xr.add(b.x0);
    xr.add(b.x1);
  }
  xr = widened(xr);
  yr = widened(yr);
  Frame f{72, 36, width - 16.0, height - 48.0, xr.lo, xr.hi, 0, 0, {}, {}};
  // The x axis spans the data exactly (steps start at 0 or at a resume point); y is widened to its outer ticks.
  for (double t : nice_ticks(xr.lo, xr.hi, std::max(2, width / 120))) {
    if (t >= xr.lo - 1e-9 * (xr.hi - xr.lo) && t <= xr.hi + 1e-9 * (xr.hi - xr.lo)) f.x_ticks.push_back(t);
  }
  f.y_ticks = nice_ticks(yr.lo, yr.hi, std::max(2, height / 70));
  f.y0 = f.y_ticks.front();
  f.y1 = f.y_ticks.back();
  return f;
}

Series decimate(const Series& series, std::size_t max_points) {
  const std::size_t n = series.x.size();
  if (n <= max_points || max_points < 4) return series;
  const std::size_t buckets = max_points / 4, size = (n + buckets - 1) / buckets;
  Series out{series.name, {}, {}};
  for (std::size_t start = 0; start < n; start += size) {
    const std::size_t end = std::min(n, start + size);
    std::size_t lo = start, hi = start;
    for (std::size_t i = start; i < end; ++i) {
      if (series.y[i] < series.y[lo]) lo = i;
      if (series.y[i] > series.y[hi]) hi = i;
    }
    std::vector<std::size_t> keep = {start, lo, hi, end - 1};
    std::sort(keep.begin(), keep.end());
    keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
    for (std::size_t i : keep) {
      out.x.push_back(series.x[i]);
      out.y.push_back(series.y[i]);
    }
  }
  return out;
}

std::vector<Chart> training_charts(const RunLog& log) {
  const std::vector<Band> stages = stage_bands(log);
  Chart losses{"losses", "Losses", "step", "loss", {}, stages};
  for (const char* key : {"loss", "guidance_loss", "identity_loss"}) {
    Series s = series_of(log, key, "", 1.0);
    if (!s.x.empty()) losses.series.push_back(std::move(s));
  }
  Chart psnr{"psnr", "PSNR on the Y channel", "step", "PSNR_Y (dB)", {}, stages};
  if (Series s = series_of(log, "psnr_y", "", 1.0); !s.x.empty()) psnr.series.push_back(std::move(s));
  Chart throughput{"throughput", "Throughput", "minutes since the start", "images / s", {}, {}};
  if (Series s = series_of(log, "images_per_second", "time", 1.0 / 60); !s.x.empty()) {
    throughput.series.push_back(std::move(s));
  }
  return {losses, psnr, throughput};
}

BarScale bar_scale(const std::vector<Bar>& bars, double left, double right) {
  double lo = 0, hi = 0;
  for (const Bar& bar : bars) {
    lo = std::min(lo, bar.value);
    hi = std::max(hi, bar.value);
  }
  if (hi == lo) hi = lo + 1;
  return {lo, hi, left, right};
}

}  // namespace rave::analysis
