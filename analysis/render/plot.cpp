#include "analysis/render/plot.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "analysis/render/raster_text.h"
#include "core/error.h"
#include "io/file_write.h"
#include "io/image_codec.h"

namespace rave::analysis {
namespace {

using namespace raster;

const cv::Scalar kGrid(221, 221, 221), kAxis(136, 136, 136);

cv::Scalar bgr(const Rgb& c) { return cv::Scalar(c.b, c.g, c.r); }

// putText draws only horizontally: the y label is drawn on a strip that is then turned a quarter left.
void put_vertical(cv::Mat& image, const std::string& content, double x, double centre_y) {
  int baseline = 0;
  const std::string text = drawable(content);
  const cv::Size size = cv::getTextSize(text, kFont, kScale, 1, &baseline);
  cv::Mat strip(size.height + baseline + 4, size.width + 4, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::putText(strip, text, cv::Point(2, size.height + 2), kFont, kScale, kInk, 1, cv::LINE_AA);
  cv::Mat turned;
  cv::rotate(strip, turned, cv::ROTATE_90_COUNTERCLOCKWISE);
  const int left = static_cast<int>(x), top = static_cast<int>(centre_y - turned.rows / 2.0);
  const cv::Rect target = cv::Rect(left, top, turned.cols, turned.rows) & cv::Rect(0, 0, image.cols, image.rows);
  turned(cv::Rect(target.x - left, target.y - top, target.width, target.height)).copyTo(image(target));
}

}  // namespace

cv::Mat render_chart(const Chart& chart, int width, int height) {
  const Frame f = frame_for(chart, width, height);
  cv::Mat image(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  for (const Band& band : chart.bands) {
    cv::rectangle(image, at(f.px(band.x0), f.top), at(f.px(band.x1), f.bottom), bgr(band_colour(band.label)),
                  cv::FILLED);
    if (f.px(band.x1) - f.px(band.x0) > 8.0 * band.label.size()) {
      put(image, band.label, f.px(band.x0) + 4, f.top + 14, 0, 0.38, cv::Scalar(102, 102, 102));
    }
  }
  const double x_spacing = f.x_ticks.size() > 1 ? f.x_ticks[1] - f.x_ticks[0] : 1;
  const double y_spacing = f.y_ticks.size() > 1 ? f.y_ticks[1] - f.y_ticks[0] : 1;
  for (double t : f.y_ticks) {
    cv::line(image, at(f.left, f.py(t)), at(f.right, f.py(t)), kGrid, 1);
    put(image, tick_label(t, y_spacing), f.left - 6, f.py(t) + 4, 1);
  }
  for (double t : f.x_ticks) {
    cv::line(image, at(f.px(t), f.bottom), at(f.px(t), f.bottom + 4), kAxis, 1);
    put(image, tick_label(t, x_spacing), f.px(t), f.bottom + 18, 0.5);
  }
  cv::rectangle(image, at(f.left, f.top), at(f.right, f.bottom), kAxis, 1);
  put(image, chart.title, f.left, 22, 0, 0.55, kInk, 1);
  put(image, chart.x_label, (f.left + f.right) / 2, height - 10.0, 0.5);
  put_vertical(image, chart.y_label, 4, (f.top + f.bottom) / 2);
  if (chart.empty()) put(image, "not logged", (f.left + f.right) / 2, (f.top + f.bottom) / 2, 0.5, kScale, kAxis);
  for (size_t i = 0; i < chart.series.size(); ++i) {
    const Series& s = chart.series[i];
    for (size_t k = 1; k < s.x.size(); ++k) {
      if (!std::isfinite(s.y[k - 1]) || !std::isfinite(s.y[k])) continue;
      cv::line(image, at(f.px(s.x[k - 1]), f.py(s.y[k - 1])), at(f.px(s.x[k]), f.py(s.y[k])), bgr(series_colour(i)), 2,
               cv::LINE_AA);
    }
  }
  // Legend, top right inside the plot area, on a white backing that keeps the curves from running through it.
  if (!chart.series.empty()) {
    const cv::Rect box(static_cast<int>(f.right - 176), static_cast<int>(f.top + 4), 170,
                       static_cast<int>(10 + 18 * chart.series.size()));
    cv::rectangle(image, box, cv::Scalar(255, 255, 255), cv::FILLED);
    cv::rectangle(image, box, cv::Scalar(204, 204, 204), 1);
  }
  for (size_t i = 0; i < chart.series.size(); ++i) {
    const double y = f.top + 20 + 18.0 * i, x = f.right - 170;
    cv::line(image, at(x, y - 4), at(x + 22, y - 4), bgr(series_colour(i)), 2, cv::LINE_AA);
    put(image, chart.series[i].name, x + 28, y);
  }
  return image;
}

std::vector<std::filesystem::path> plot_run(const std::filesystem::path& run_dir, const std::filesystem::path& out_dir,
                                            int width, int height) {
  const RunLog log = read_run_log(run_dir / "metrics.jsonl");
  if (log.malformed_lines > 0) {
    spdlog::warn("{}: {} line(s) could not be read and were skipped", (run_dir / "metrics.jsonl").string(),
                 log.malformed_lines);
  }
  std::error_code error;
  std::filesystem::create_directories(out_dir, error);
  if (error) throw IoError("cannot create " + out_dir.string() + ": " + error.message(), "choose another --out");
  std::vector<std::filesystem::path> written;
  for (const Chart& chart : training_charts(log)) {
    if (chart.empty()) continue;
    const std::filesystem::path path = out_dir / (chart.id + ".png");
    const std::vector<std::uint8_t> png = io::codec::encode_png(render_chart(chart, width, height));
    if (png.empty()) throw IoError("cannot encode " + path.string());
    io::write_whole_file(path.string(), png.data(), png.size());  // every write and the close checked
    written.push_back(path);
  }
  return written;
}

}  // namespace rave::analysis
