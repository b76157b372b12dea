#include "analysis/render/bar_plot.h"

#include <algorithm>
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

const cv::Scalar kBarAxis(68, 68, 68);

}  // namespace

cv::Mat render_bar_chart(const std::vector<Bar>& bars, const std::string& title, int width) {
  const double row = 22, top = 36, label_width = 220, value_width = 70;
  const int height = static_cast<int>(top + row * double(bars.size()) + 12);
  const BarScale scale = bar_scale(bars, label_width, width - value_width);
  cv::Mat image(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  put(image, title, 8, 22, 0, 0.55, kInk, 1);
  for (size_t i = 0; i < bars.size(); ++i) {
    const Bar& bar = bars[i];
    const double y = top + row * double(i);
    const double x0 = std::min(scale.px(0), scale.px(bar.value)), x1 = std::max(scale.px(0), scale.px(bar.value));
    put(image, bar.label, label_width - 8, y + 15, 1);
    cv::rectangle(image, at(x0, y + 3), at(std::max(x1, x0 + 1), y + row - 3),
                  cv::Scalar(bar.colour.b, bar.colour.g, bar.colour.r), cv::FILLED);
    put(image, tick_label(bar.value, 0.001), x1 + 4, y + 15);
  }
  cv::line(image, at(scale.px(0), top), at(scale.px(0), top + row * double(bars.size())), kBarAxis, 1);
  return image;
}

void write_bar_chart_png(const std::filesystem::path& path, const std::vector<Bar>& bars, const std::string& title,
                         int width) {
  std::error_code error;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), error);
  std::vector<std::uint8_t> png;
  try {
    png = io::codec::encode_png(render_bar_chart(bars, title, width));
  } catch (const cv::Exception& e) {
    throw IoError("cannot encode the chart " + path.string() + ": " + e.what());
  }
  if (png.empty()) throw IoError("cannot encode the chart " + path.string());
  io::write_whole_file(path.string(), png.data(), png.size());  // every write and the close checked
}

}  // namespace rave::analysis
