// Timing helpers shared by the benchmark tasks: wall-clock seconds, the process's CPU seconds (all threads;
// on a machine shared with other jobs, 1-thread CPU time still compares two implementations where wall time
// no longer does), the median of repeated runs (robust to one run disturbed by another process) and rounding
// for readable JSON.
#pragma once

#include <torch/cuda.h>
#include <torch/types.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <vector>

namespace rave::bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

inline double cpu_seconds() { return double(std::clock()) / CLOCKS_PER_SEC; }

// x rounded to a multiple of 1 / unit (unit 1000: three decimals).
inline double rounded(double x, double unit = 1000) { return std::round(x * unit) / unit; }

// Waits for the work queued on `device`: CUDA kernels run asynchronously, and a timed region must end when its
// work does.
inline void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

}  // namespace rave::bench
