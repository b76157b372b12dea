#include "io/augment.h"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "core/error.h"

namespace rave::io {
namespace {

// A test image whose pixels are all distinct: channel c of (y, x) = 10 y + x + 50 c.
cv::Mat ramp(int rows, int cols) {
  cv::Mat m(rows, cols, CV_8UC3);
  for (int y = 0; y < rows; ++y)
    for (int x = 0; x < cols; ++x) m.at<cv::Vec3b>(y, x) = cv::Vec3b(10 * y + x, 10 * y + x + 50, 10 * y + x + 100);
  return m;
}

bool same(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

TEST(Augment, DrawsAreReproducibleAndFollowTheProbabilities) {
  dist::SplitMix64 a(7), b(7);
  int hflip = 0, rotate = 0, zoom = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const AugmentDraws d = draw_augmentation(a), e = draw_augmentation(b);
    ASSERT_EQ(d.angle, e.angle);
    ASSERT_EQ(d.zoom_x, e.zoom_x);
    hflip += d.hflip, rotate += d.rotate, zoom += d.zoom;
    ASSERT_GE(d.angle, -90);
    ASSERT_LT(d.angle, 90);
    if (d.zoom) {
      ASSERT_GE(d.zoom_x, 0.7);
      ASSERT_LT(d.zoom_y, 1.3);
    } else {
      ASSERT_EQ(d.zoom_x, 1.0);
    }
  }
  EXPECT_NEAR(hflip / double(n), 0.5, 0.02);
  EXPECT_NEAR(rotate / double(n), 0.3, 0.02);
  EXPECT_NEAR(zoom / double(n), 0.3, 0.02);
}

TEST(Augment, MarginLoaderAlwaysDrawsZoomFactors) {
  // With always_draw_zoom the factors are drawn even when zoom is off, which shifts every later draw.
  dist::SplitMix64 always(3), only_when_on(3);
  const AugmentRanges margin{0.5, 1.5, true}, add{0.5, 1.5, false};
  bool diverged = false;
  for (int i = 0; i < 20 && !diverged; ++i) {
    const AugmentDraws d = draw_augmentation(always, margin), e = draw_augmentation(only_when_on, add);
    EXPECT_GE(d.zoom_x, 0.5);
    EXPECT_LT(d.zoom_y, 1.5);
    if (!d.zoom) {
      EXPECT_NE(d.zoom_x, 1.0);
      EXPECT_EQ(e.zoom_x, 1.0);
      diverged = draw_augmentation(always, margin).angle != draw_augmentation(only_when_on, add).angle;
    }
  }
  EXPECT_TRUE(diverged);
}

TEST(Augment, FlipsAndTransposeAreExactPermutations) {
  const cv::Mat image = ramp(3, 4);
  AugmentDraws d;
  d.hflip = true;
  const cv::Mat h = augment(image, d);
  EXPECT_EQ(h.at<cv::Vec3b>(0, 0), image.at<cv::Vec3b>(0, 3));
  d = {};
  d.vflip = true;
  EXPECT_EQ(augment(image, d).at<cv::Vec3b>(0, 1), image.at<cv::Vec3b>(2, 1));
  d = {};
  d.transpose = true;
  const cv::Mat t = augment(image, d);
  ASSERT_EQ(t.rows, 4);
  EXPECT_EQ(t.at<cv::Vec3b>(3, 1), image.at<cv::Vec3b>(1, 3));
  d = {};
  EXPECT_TRUE(same(augment(image, d), image));
}

TEST(Augment, UnitZoomIsTheIdentity) {
  const cv::Mat image = ramp(8, 8);
  AugmentDraws d;
  d.zoom = true;
  EXPECT_TRUE(same(augment(image, d), image));
}

TEST(Augment, ZoomSamplesAboutTheReferenceCentre) {
  // Zoom 2 about o = S/2 + 0.5 = 4.5: output column 4 samples input column (4 - 4.5)/2 + 4.5 = 4.25, i.e.
  // 0.75 * in[4] + 0.25 * in[5] (bilinear; OpenCV's fixed point may round to either neighbour integer).
  const cv::Mat image = ramp(8, 8);
  AugmentDraws d;
  d.zoom = true;
  d.zoom_x = 2;
  const cv::Mat z = augment(image, d);
  const double expected = 0.75 * image.at<cv::Vec3b>(3, 4)[0] + 0.25 * image.at<cv::Vec3b>(3, 5)[0];
  EXPECT_NEAR(z.at<cv::Vec3b>(3, 4)[0], expected, 1.0);
  EXPECT_EQ(z.at<cv::Vec3b>(3, 4)[0] - z.at<cv::Vec3b>(2, 4)[0], 10);  // rows untouched (zoom_y = 1)
}

TEST(Augment, QuarterTurnAboutTheCentrePixelIsCounterClockwise) {
  const cv::Mat image = ramp(5, 5);
  AugmentDraws d;
  d.rotate = true;
  d.angle = 90;
  cv::Mat expected;
  cv::rotate(image, expected, cv::ROTATE_90_COUNTERCLOCKWISE);
  EXPECT_TRUE(same(augment(image, d), expected));
}

TEST(Augment, RejectsNonRgb8Images) {
  EXPECT_THROW(augment(cv::Mat(4, 4, CV_8UC1), {}), Error);
  EXPECT_THROW(augment(cv::Mat(), {}), Error);
}

}  // namespace
}  // namespace rave::io
