#include "analysis/render/raster_text.h"

#include <cmath>

namespace rave::analysis::raster {

cv::Point at(double x, double y) { return {static_cast<int>(std::lround(x)), static_cast<int>(std::lround(y))}; }

std::string drawable(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c >= 0x20 && c < 0x7f) {
      out += char(c);
    } else if (c < 0x80 || c >= 0xc0) {
      out += '?';  // a control character or the lead byte of a multi-byte character; continuation bytes add nothing
    }
  }
  return out;
}

void put(cv::Mat& image, const std::string& content, double x, double y, double align, double scale,
         const cv::Scalar& colour, int thickness) {
  int baseline = 0;
  const std::string text = drawable(content);
  const cv::Size size = cv::getTextSize(text, kFont, scale, thickness, &baseline);
  cv::putText(image, text, at(x - align * size.width, y), kFont, scale, colour, thickness, cv::LINE_AA);
}

}  // namespace rave::analysis::raster
