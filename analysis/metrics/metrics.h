// Full-reference image quality metrics of enhanced images against ground truth, batched on tensors:
//
//   psnr_y          ALGORITHMS §5.1, the PSNR the training loop watches (pyiqa, test_y_channel): BT.601 studio-swing
//                   luma Y = (16 + 65.481 R + 128.553 G + 24.966 B) / 255, MSE over the Y plane,
//                   PSNR = 10 log10(1 / (MSE + 1e-8)). Identical images give 80 dB.
//   psnr_rgb        the same over the three RGB planes (pyiqa without test_y_channel).
//   ssim            the standard SSIM of Wang et al. (2004) on RGB: 11x11 Gaussian window with sigma 1.5 (normalised),
//                   K1 = 0.01, K2 = 0.03, data range 1, weighted (population) statistics, mean of the SSIM map over
//                   the valid region (no padding) of each channel, then over the channels. This equals
//                   skimage.metrics.structural_similarity(a, b, channel_axis=2, gaussian_weights=True, sigma=1.5,
//                   use_sample_covariance=False, data_range=1).
//
// and the two metrics of the reference's evaluation script (§5.2), on its 8-bit greyscale images, so that numbers
// can be compared with the papers' tables:
//
//   reference_grey  the script's grey image: it reads BGR files with OpenCV and converts them with the RGB->grey
//                   formula, so it computes 0.299 B + 0.587 G + 0.114 R (channels swapped), in OpenCV's 8-bit
//                   fixed point.
//   psnr_reference  OpenCV's PSNR of two grey images, 20 log10(255 / sqrt(MSE)) (361.2 dB for identical images).
//   ssim_reference  scikit-image's default SSIM of two grey images: 7x7 uniform window, K1 = 0.01, K2 = 0.03,
//                   sample covariance (N / (N - 1)), data range = max - min of the enhanced image, mean over the
//                   valid region.
//
// Every function computes in float64 and returns detached per-image values on the device of its inputs. The PSNRs
// are tensor expressions on that device (the trainer calls psnr_y on its batches); the SSIMs and the reference
// metrics run on the CPU with OpenCV, whose separable filters handle multi-megapixel photos in a fraction of a
// second.
#pragma once

#include <torch/types.h>

namespace rave::analysis {

// `a`, `b`: float images in [0,1], [B,3,H,W] or [3,H,W] (same shape) -> float64 [B] (or 0-d for one image).
torch::Tensor psnr_y(const torch::Tensor& a, const torch::Tensor& b);
torch::Tensor psnr_rgb(const torch::Tensor& a, const torch::Tensor& b);
torch::Tensor ssim(const torch::Tensor& a, const torch::Tensor& b);

// uint8 [H,W,3] RGB -> uint8 [H,W], see above.
torch::Tensor reference_grey(const torch::Tensor& hwc_u8);
// Two uint8 [H,W] grey images of the same size.
double psnr_reference(const torch::Tensor& enhanced_grey, const torch::Tensor& ground_truth_grey);
double ssim_reference(const torch::Tensor& enhanced_grey, const torch::Tensor& ground_truth_grey);

}  // namespace rave::analysis
