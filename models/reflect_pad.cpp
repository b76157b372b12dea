#include "models/reflect_pad.h"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstring>

namespace rave::models {
namespace {

// The source index of padded position p - 1 in a side of length n >= 2: -1 -> 1, n -> n - 2.
int64_t reflected(int64_t i, int64_t n) { return i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i); }

// About 32 K elements per task: planes are independent, and smaller tasks cost more to hand out than to run.
int64_t plane_grain(int64_t plane_elements) { return std::max<int64_t>(1, 32768 / plane_elements); }

template <typename T>
void pad_planes(const T* in, T* out, int64_t planes, int64_t h, int64_t w) {
  at::parallel_for(0, planes, plane_grain(h * w), [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const T* plane = in + p * h * w;
      T* padded = out + p * (h + 2) * (w + 2);
      for (int64_t r = 0; r < h + 2; ++r) {
        const T* row = plane + reflected(r - 1, h) * w;
        T* target = padded + r * (w + 2);
        target[0] = row[1];
        std::memcpy(target + 1, row, w * sizeof(T));
        target[w + 1] = row[w - 2];
      }
    }
  });
}

// The adjoint of pad_planes: every padded position's gradient added to the pixel it was copied from.
template <typename T>
void unpad_planes(const T* grad, T* out, int64_t planes, int64_t h, int64_t w) {
  at::parallel_for(0, planes, plane_grain(h * w), [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const T* padded = grad + p * (h + 2) * (w + 2);
      T* plane = out + p * h * w;
      for (int64_t r = 0; r < h; ++r) {
        const T* row = padded + (r + 1) * (w + 2);
        T* target = plane + r * w;
        std::memcpy(target, row + 1, w * sizeof(T));
        target[1] += row[0];
        target[w - 2] += row[w + 1];
      }
      // The padded top and bottom rows, corners included, land on rows 1 and h - 2.
      for (const auto& [padded_row, row] : {std::pair{int64_t{0}, int64_t{1}}, std::pair{h + 1, h - 2}}) {
        const T* source = padded + padded_row * (w + 2);
        T* target = plane + row * w;
        for (int64_t c = 0; c < w + 2; ++c) target[reflected(c - 1, w)] += source[c];
      }
    }
  });
}

bool runs_here(const torch::Tensor& x) {
  return x.device().is_cpu() && x.layout() == torch::kStrided && x.dim() == 4 && x.size(2) >= 2 &&
         x.size(3) >= 2 && x.is_floating_point();
}

torch::Tensor pad_forward(const torch::Tensor& input) {
  const torch::Tensor x = input.contiguous();
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  torch::Tensor out = torch::empty({n, c, h + 2, w + 2}, x.options());
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, x.scalar_type(), "reflect_pad1", [&] {
    pad_planes(x.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), n * c, h, w);
  });
  return out;
}

torch::Tensor pad_backward(const torch::Tensor& padded_grad) {
  const torch::Tensor g = padded_grad.contiguous();
  const int64_t n = g.size(0), c = g.size(1), h = g.size(2) - 2, w = g.size(3) - 2;
  torch::Tensor out = torch::empty({n, c, h, w}, g.options());
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, g.scalar_type(), "reflect_pad1_backward", [&] {
    unpad_planes(g.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), n * c, h, w);
  });
  return out;
}

struct ReflectPad1 : torch::autograd::Function<ReflectPad1> {
  static torch::Tensor forward(torch::autograd::AutogradContext*, const torch::Tensor& x) { return pad_forward(x); }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext*,
                                                 torch::autograd::variable_list grads) {
    return {pad_backward(grads[0])};
  }
};

}  // namespace

torch::Tensor reflect_pad1(const torch::Tensor& x) {
  if (!runs_here(x)) return torch::reflection_pad2d(x, {1, 1, 1, 1});
  return x.requires_grad() ? ReflectPad1::apply(x) : pad_forward(x);
}

}  // namespace rave::models
