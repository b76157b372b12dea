#include "tests/support/test_support.h"

#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>

#include <torch/torch.h>

namespace rave::test {

std::filesystem::path fixtures_dir() {
  const char* env = std::getenv("RAVE_FIXTURES_DIR");
  std::filesystem::path dir = env && *env ? env : RAVE_FIXTURES_DIR;
  return std::filesystem::is_directory(dir) ? dir : std::filesystem::path();
}

std::string fixture(const std::string& folder, const std::string& name) {
  return (fixtures_dir() / folder / name).string();
}

double max_abs_error(const torch::Tensor& actual, const torch::Tensor& expected) {
  EXPECT_EQ(actual.sizes(), expected.sizes());
  if (actual.sizes() != expected.sizes()) return INFINITY;
  return (actual.to(torch::kFloat64) - expected.to(torch::kFloat64)).abs().max().item<double>();
}

int max_level_difference(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kInt) - b.to(torch::kInt)).abs().max().item<int>();
}

ScratchDir::ScratchDir() {
  std::random_device entropy;
  path_ = std::filesystem::temp_directory_path() / ("rave-test-" + std::to_string(entropy()));
  std::filesystem::create_directories(path_);
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::filesystem::path shared_temp_dir(dist::Communicator& communicator, const std::string& prefix) {
  torch::Tensor token = torch::tensor(communicator.rank() == 0 ? int64_t(std::random_device()()) : int64_t(0));
  communicator.broadcast(token, 0);
  const auto path = std::filesystem::temp_directory_path() / (prefix + "-" + std::to_string(token.item<int64_t>()));
  if (communicator.rank() == 0) std::filesystem::create_directories(path);
  communicator.barrier();
  return path;
}

CommandResult run_command(const std::string& command) {
  CommandResult result{-1, ""};
  if (FILE* pipe = popen((command + " 2>&1").c_str(), "r")) {
    char buffer[4096];
    for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) result.output.append(buffer, n);
    const int status = pclose(pipe);
    result.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  return result;
}

}  // namespace rave::test
