#include "models/reflect_pad.h"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstring>

namespace rave::models {
namespace {

// The source index of padded position p - 1 in a side of length n >= 2: -1 -> 1, n -> n - 2.
int64_t reflected(int64_t i, int64_t n) { return i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i); }

// Both memory formats are stacks of rows of pixels: NCHW has N*C stacks of one-value pixels, NHWC (channels last)
// N stacks of C-value pixels. A row of w pixels pads to w + 2, a stack of h rows to h + 2.
struct Rows {
  int64_t stacks, h, w, pixel;
  int64_t row() const { return w * pixel; }
  int64_t padded_row() const { return (w + 2) * pixel; }
  // About 32 K elements per task: smaller tasks cost more to hand out than to run.
  int64_t grain() const { return std::max<int64_t>(1, 32768 / row()); }
};

template <typename T>
void pad_rows(const T* in, T* out, const Rows& g) {
  at::parallel_for(0, g.stacks * (g.h + 2), g.grain(), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int64_t stack = i / (g.h + 2), r = i % (g.h + 2);
      const T* source = in + (stack * g.h + reflected(r - 1, g.h)) * g.row();
      T* target = out + i * g.padded_row();
      std::memcpy(target, source + g.pixel, g.pixel * sizeof(T));
      std::memcpy(target + g.pixel, source, g.row() * sizeof(T));
      std::memcpy(target + (g.w + 1) * g.pixel, source + (g.w - 2) * g.pixel, g.pixel * sizeof(T));
    }
  });
}

// target (a row of w pixels) += the padded row `padded` folded back: each of its w + 2 pixels onto the pixel it
// was copied from.
template <typename T>
void add_folded(T* target, const T* padded, const Rows& g) {
  for (int64_t c = 0; c < g.w + 2; ++c) {
    T* pixel = target + reflected(c - 1, g.w) * g.pixel;
    for (int64_t k = 0; k < g.pixel; ++k) pixel[k] += padded[c * g.pixel + k];
  }
}

// The adjoint of pad_rows: every padded position's gradient added to the value it was copied from. Each task owns
// whole rows of the result, the padded top and bottom rows going to rows 1 and h - 2.
template <typename T>
void unpad_rows(const T* grad, T* out, const Rows& g) {
  at::parallel_for(0, g.stacks * g.h, g.grain(), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int64_t stack = i / g.h, r = i % g.h;
      const T* padded = grad + stack * (g.h + 2) * g.padded_row();
      const T* own = padded + (r + 1) * g.padded_row();
      T* target = out + i * g.row();
      std::memcpy(target, own + g.pixel, g.row() * sizeof(T));
      for (int64_t k = 0; k < g.pixel; ++k) {
        target[g.pixel + k] += own[k];
        target[(g.w - 2) * g.pixel + k] += own[(g.w + 1) * g.pixel + k];
      }
      if (r == 1) add_folded(target, padded, g);
      if (r == g.h - 2) add_folded(target, padded + (g.h + 1) * g.padded_row(), g);
    }
  });
}

bool runs_here(const torch::Tensor& x) {
  return x.device().is_cpu() && x.layout() == torch::kStrided && x.dim() == 4 && x.size(2) >= 2 &&
         x.size(3) >= 2 && x.is_floating_point();
}

// NCHW unless x is channels last (the enhancer's layout on the CPU) and not also NCHW (one channel, say).
torch::MemoryFormat layout_of(const torch::Tensor& x) {
  return !x.is_contiguous() && x.is_contiguous(torch::MemoryFormat::ChannelsLast) ? torch::MemoryFormat::ChannelsLast
                                                                                  : torch::MemoryFormat::Contiguous;
}

Rows rows_of(const torch::Tensor& x, torch::MemoryFormat format, int64_t border) {
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2) - border, w = x.size(3) - border;
  return format == torch::MemoryFormat::ChannelsLast ? Rows{n, h, w, c} : Rows{n * c, h, w, 1};
}

torch::Tensor pad_forward(const torch::Tensor& input, torch::MemoryFormat format) {
  const torch::Tensor x = input.contiguous(format);
  torch::Tensor out = torch::empty({x.size(0), x.size(1), x.size(2) + 2, x.size(3) + 2},
                                   x.options().memory_format(format));
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, x.scalar_type(), "reflect_pad1", [&] {
    pad_rows(x.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), rows_of(x, format, 0));
  });
  return out;
}

torch::Tensor pad_backward(const torch::Tensor& padded_grad, torch::MemoryFormat format) {
  const torch::Tensor g = padded_grad.contiguous(format);
  torch::Tensor out = torch::empty({g.size(0), g.size(1), g.size(2) - 2, g.size(3) - 2},
                                   g.options().memory_format(format));
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, g.scalar_type(), "reflect_pad1_backward", [&] {
    unpad_rows(g.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), rows_of(g, format, 2));
  });
  return out;
}

struct ReflectPad1 : torch::autograd::Function<ReflectPad1> {
  static torch::Tensor forward(torch::autograd::AutogradContext* context, const torch::Tensor& x) {
    const torch::MemoryFormat format = layout_of(x);
    context->saved_data["channels_last"] = format == torch::MemoryFormat::ChannelsLast;
    return pad_forward(x, format);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* context,
                                                 torch::autograd::variable_list grads) {
    const bool channels_last = context->saved_data["channels_last"].toBool();
    return {pad_backward(grads[0],
                         channels_last ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous)};
  }
};

}  // namespace

torch::Tensor reflect_pad1(const torch::Tensor& x) {
  if (!runs_here(x)) return torch::reflection_pad2d(x, {1, 1, 1, 1});
  return x.requires_grad() ? ReflectPad1::apply(x) : pad_forward(x, layout_of(x));
}

}  // namespace rave::models
