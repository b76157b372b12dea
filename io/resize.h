// The resizes of the specification (ALGORITHMS §1.7, §3.2, §3.7), each matching one reference filter:
//
//   resize_pil               PIL Image.resize on 8-bit RGB (Pillow 9.x Resample.c), bit-exact: LANCZOS (= the
//                            reference's ANTIALIAS) for the 512x512 training inputs (variant C), BICUBIC for variant B.
//   clip_resize_center_crop  torchvision Resize(224, BICUBIC) on a PIL image + CenterCrop(224): variant B, CLIP's own
//                            preprocess, used for RAVE's residual vector;
//   clip_preprocess          the same followed by /255 and clip_normalize.
//   squash_bilinear          torch interpolate(bilinear, align_corners=false, no antialias) to size x size, aspect
//                            ratio not kept: variant A, inside the losses; differentiable.
//   clip_normalize           torchvision Normalize with CLIP's mean and std.
//
// The two families must not be unified: the reference trains against exactly these differences.
#pragma once

#include <torch/types.h>

#include <cstdint>

namespace rave::io {

enum class PilFilter {
  bicubic,  // Keys cubic, a = -0.5, support 2
  lanczos,  // sinc(x)·sinc(x/3), support 3
};

// uint8 [H,W,C] (C = 1 to 4, PIL's bands) -> uint8 [out_h,out_w,C], as PIL resizes an 8-bit image: antialiased (the
// kernel is stretched by the downscale factor), separable, horizontal pass first with an 8-bit rounded
// intermediate, 22-bit fixed-point weights. A pass whose size does not change is skipped, as in PIL.
torch::Tensor resize_pil(const torch::Tensor& hwc_u8, std::int64_t out_h, std::int64_t out_w, PilFilter filter);

// Variant B without the float part: shorter side -> `size` (longer side floor(size·long/short)) with PIL bicubic,
// then a size x size crop at top = round((H'-size)/2), left = round((W'-size)/2), Python's round half to even.
// uint8 [H,W,3] -> uint8 [size,size,3].
torch::Tensor clip_resize_center_crop(const torch::Tensor& hwc_u8, std::int64_t size = 224);

// Variant B: clip_normalize(to_float_chw(clip_resize_center_crop(hwc_u8))), float32 [3,224,224].
torch::Tensor clip_preprocess(const torch::Tensor& hwc_u8);

// Variant A: [B,3,H,W] (or [3,H,W]) float -> [B,3,size,size] (or [3,size,size]). Source coordinate of output d:
// s = (d + 0.5)·in/size - 0.5, clamped below at 0; neighbours floor(s) and min(floor(s) + 1, in - 1).
torch::Tensor squash_bilinear(const torch::Tensor& images, std::int64_t size = 224);

// (x - mean) / std per channel with CLIP's constants, on [3,H,W] or [B,3,H,W]; float32 sub then div, as torchvision.
torch::Tensor clip_normalize(const torch::Tensor& images);

}  // namespace rave::io
