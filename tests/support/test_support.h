// Shared helpers of the test suites: the fixtures folder and scratch directories.
#pragma once

#include <gtest/gtest.h>
#include <torch/version.h>

#include <filesystem>
#include <string>

#include "dist/communicator.h"

namespace rave::test {

// ../shared/fixtures (or RAVE_FIXTURES_DIR), or an empty path when it is absent.
std::filesystem::path fixtures_dir();

// A file of the fixtures, e.g. fixture("clip", "tiny_vit.pt").
std::string fixture(const std::string& folder, const std::string& name);

// The largest absolute difference in float64; a failed expectation and infinity when the shapes differ.
double max_abs_error(const torch::Tensor& actual, const torch::Tensor& expected);

// The largest difference of two 8-bit images in grey levels.
int max_level_difference(const torch::Tensor& a, const torch::Tensor& b);

// The bound of a parity test against the goldens, which PyTorch 1.13 computed on the CPU. LibTorch 2.x changed
// some CPU kernels (the bilinear resize differs from the goldens by 9.9e-6 on [0,1] pixels, exactly as
// PyTorch 2.11 itself does; BLAS and reductions sum in other orders), so the bound that holds on 1.13 is
// replaced by `other_libtorch` on other versions.
inline double golden_tolerance(double libtorch_1_13, double other_libtorch) {
  return TORCH_VERSION_MAJOR == 1 && TORCH_VERSION_MINOR == 13 ? libtorch_1_13 : other_libtorch;
}

// A fresh empty directory under the system temp folder, removed by the destructor.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// A fresh directory under the system temp folder that every rank of `communicator` gets the same path of
// (rank 0 creates it). The caller removes it.
std::filesystem::path shared_temp_dir(dist::Communicator& communicator, const std::string& prefix);

// What a shell command printed (stdout and stderr together) and its exit code (-1 when it did not exit).
struct CommandResult {
  int code;
  std::string output;
};
CommandResult run_command(const std::string& command);

}  // namespace rave::test

// Skips the current test with a message when the shared fixtures are not beside the checkout.
#define RAVE_REQUIRE_FIXTURES()                                                                        \
  do {                                                                                                 \
    if (::rave::test::fixtures_dir().empty()) GTEST_SKIP() << "shared fixtures not found (set RAVE_FIXTURES_DIR)"; \
  } while (0)
