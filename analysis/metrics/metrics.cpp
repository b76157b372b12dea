#include "analysis/metrics/metrics.h"

#include <torch/torch.h>

#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <string>

#include "core/error.h"

namespace rave::analysis {
namespace {

// The metric functions accept one image or a batch; they work on a batch and give back the caller's rank.
struct Batch {
  torch::Tensor a, b;
  bool single;
};

Batch as_batch(const torch::Tensor& a, const torch::Tensor& b, const char* metric) {
  if (!a.defined() || !b.defined() || a.sizes() != b.sizes() || (a.dim() != 3 && a.dim() != 4) ||
      a.size(-3) != 3) {
    throw UsageError(std::string(metric) + " needs two RGB images of the same shape ([3,H,W] or [B,3,H,W])",
                     "the enhanced image and its ground truth must have the same size");
  }
  const bool single = a.dim() == 3;
  const auto prepare = [&](const torch::Tensor& t) {
    const torch::Tensor d = t.detach().to(torch::kFloat64);
    return single ? d.unsqueeze(0) : d;
  };
  return {prepare(a), prepare(b), single};
}

torch::Tensor unbatch(const torch::Tensor& values, const Batch& batch) {
  return batch.single ? values.squeeze(0) : values;
}

// pyiqa's PSNR with data range 1: the epsilon keeps identical images finite (80 dB).
torch::Tensor psnr_from_mse(const torch::Tensor& mse) { return 10.0 * torch::log10(1.0 / (mse + 1e-8)); }

// Mean SSIM over the valid region of two float64 single-channel images, with the separable window w (a k x 1
// CV_64F column). OpenCV's separable filters run in double precision without unfolding the image, which keeps
// multi-megapixel photos fast; the reflected border they add is cropped away, so what remains is the valid
// region of a plain convolution (scikit-image crops the same (k-1)/2 pixels).
double mean_ssim(const cv::Mat& x, const cv::Mat& y, const cv::Mat& w, double data_range, bool sample_covariance) {
  const int k = w.rows, r = k / 2;
  if (x.rows < k || x.cols < k) {
    throw UsageError("SSIM needs images of at least " + std::to_string(k) + "x" + std::to_string(k) + " pixels, got " +
                         std::to_string(x.cols) + "x" + std::to_string(x.rows),
                     "evaluate at full resolution");
  }
  const cv::Rect valid(r, r, x.cols - 2 * r, x.rows - 2 * r);
  const auto local_mean = [&](const cv::Mat& m) {
    cv::Mat out;
    cv::sepFilter2D(m, out, CV_64F, w, w, cv::Point(-1, -1), 0, cv::BORDER_REFLECT);
    return cv::Mat(out(valid));
  };
  const cv::Mat ux = local_mean(x), uy = local_mean(y);
  // Sample covariance rescales the window's (population) moments by N / (N - 1), N = k*k pixels.
  const double norm = sample_covariance ? double(k * k) / double(k * k - 1) : 1.0;
  const cv::Mat ux2 = ux.mul(ux), uy2 = uy.mul(uy), uxy = ux.mul(uy);
  const cv::Mat vx = norm * (local_mean(x.mul(x)) - ux2);
  const cv::Mat vy = norm * (local_mean(y.mul(y)) - uy2);
  const cv::Mat vxy = norm * (local_mean(x.mul(y)) - uxy);
  const double c1 = std::pow(0.01 * data_range, 2), c2 = std::pow(0.03 * data_range, 2);
  cv::Mat map;
  cv::divide((2 * uxy + c1).mul(2 * vxy + c2), (ux2 + uy2 + c1).mul(vx + vy + c2), map);
  return cv::mean(map)[0];
}

// scipy's Gaussian kernel as scikit-image uses it: radius int(3.5 sigma + 0.5) = 5 for sigma 1.5, i.e. 11 taps.
cv::Mat gaussian_window(double sigma) {
  const int radius = static_cast<int>(3.5 * sigma + 0.5);
  cv::Mat w(2 * radius + 1, 1, CV_64F);
  for (int i = -radius; i <= radius; ++i) w.at<double>(i + radius) = std::exp(-0.5 * i * i / (sigma * sigma));
  return w / cv::sum(w)[0];
}

// A view of a contiguous float64 CPU [H,W] tensor; the tensor must outlive the view.
cv::Mat plane(const torch::Tensor& hw) {
  return cv::Mat(static_cast<int>(hw.size(0)), static_cast<int>(hw.size(1)), CV_64F, hw.data_ptr<double>());
}

// Both grey images uint8 [H,W] of one size.
void check_grey_pair(const torch::Tensor& a, const torch::Tensor& b, const char* what) {
  for (const torch::Tensor* t : {&a, &b}) {
    if (t->dim() != 2 || t->scalar_type() != torch::kUInt8) {
      throw UsageError(std::string(what) + " needs uint8 [H,W] grey images (see reference_grey)");
    }
  }
  if (a.sizes() != b.sizes()) {
    throw UsageError(std::string(what) + " needs two grey images of the same size",
                     "the enhanced image and its ground truth must have the same size");
  }
}

// A view of a contiguous CPU copy; the copy must outlive the view.
cv::Mat grey_mat(const torch::Tensor& contiguous_cpu) {
  return cv::Mat(static_cast<int>(contiguous_cpu.size(0)), static_cast<int>(contiguous_cpu.size(1)), CV_8UC1,
                 contiguous_cpu.data_ptr<uint8_t>());
}

}  // namespace

torch::Tensor psnr_y(const torch::Tensor& a, const torch::Tensor& b) {
  const Batch batch = as_batch(a, b, "psnr_y");
  // The 16/255 offset of Y cancels in the difference; the coefficients are BT.601's studio-swing ones.
  const torch::Tensor weights =
      torch::tensor({65.481, 128.553, 24.966}, batch.a.options()).view({1, 3, 1, 1}) / 255.0;
  const torch::Tensor dy = ((batch.a - batch.b) * weights).sum(1);
  return unbatch(psnr_from_mse(dy.square().flatten(1).mean(1)), batch);
}

torch::Tensor psnr_rgb(const torch::Tensor& a, const torch::Tensor& b) {
  const Batch batch = as_batch(a, b, "psnr_rgb");
  return unbatch(psnr_from_mse((batch.a - batch.b).square().flatten(1).mean(1)), batch);
}

torch::Tensor ssim(const torch::Tensor& a, const torch::Tensor& b) {
  const Batch batch = as_batch(a, b, "ssim");
  const torch::Tensor x = batch.a.cpu().contiguous(), y = batch.b.cpu().contiguous();
  const cv::Mat window = gaussian_window(1.5);
  const int64_t n = x.size(0);
  torch::Tensor values = torch::empty({n}, torch::kFloat64);
  for (int64_t i = 0; i < n; ++i) {
    // Each colour channel is a separate greyscale SSIM; the channel means are averaged.
    double sum = 0;
    for (int64_t c = 0; c < 3; ++c) sum += mean_ssim(plane(x[i][c]), plane(y[i][c]), window, 1.0, false);
    values[i] = sum / 3;
  }
  return unbatch(values.to(a.device()), batch);
}

torch::Tensor reference_grey(const torch::Tensor& hwc_u8) {
  if (hwc_u8.dim() != 3 || hwc_u8.size(2) != 3 || hwc_u8.scalar_type() != torch::kUInt8) {
    throw UsageError("reference_grey needs a uint8 [H,W,3] RGB image");
  }
  const torch::Tensor rgb = hwc_u8.cpu().contiguous();
  const cv::Mat colour(static_cast<int>(rgb.size(0)), static_cast<int>(rgb.size(1)), CV_8UC3, rgb.data_ptr<uint8_t>());
  // The script holds BGR data and applies the RGB formula; converting our RGB data with the BGR formula gives the
  // same swapped weights, in the same fixed-point arithmetic.
  cv::Mat grey;
  cv::cvtColor(colour, grey, cv::COLOR_BGR2GRAY);
  return torch::from_blob(grey.data, {grey.rows, grey.cols}, torch::kUInt8).clone();
}

double psnr_reference(const torch::Tensor& enhanced_grey, const torch::Tensor& ground_truth_grey) {
  check_grey_pair(enhanced_grey, ground_truth_grey, "psnr_reference");
  const torch::Tensor a = enhanced_grey.cpu().contiguous(), b = ground_truth_grey.cpu().contiguous();
  return cv::PSNR(grey_mat(a), grey_mat(b), 255.0);
}

double ssim_reference(const torch::Tensor& enhanced_grey, const torch::Tensor& ground_truth_grey) {
  check_grey_pair(enhanced_grey, ground_truth_grey, "ssim_reference");
  const torch::Tensor x = enhanced_grey.to(torch::kCPU, torch::kFloat64).contiguous();
  const torch::Tensor y = ground_truth_grey.to(torch::kCPU, torch::kFloat64).contiguous();
  const double data_range = (x.max() - x.min()).item<double>();
  return mean_ssim(plane(x), plane(y), cv::Mat(7, 1, CV_64F, cv::Scalar(1.0 / 7.0)), data_range, true);
}

}  // namespace rave::analysis
