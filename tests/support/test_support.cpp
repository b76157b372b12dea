#include "tests/support/test_support.h"

#include <cstdlib>
#include <random>

namespace rave::test {

std::filesystem::path fixtures_dir() {
  const char* env = std::getenv("RAVE_FIXTURES_DIR");
  std::filesystem::path dir = env && *env ? env : RAVE_FIXTURES_DIR;
  return std::filesystem::is_directory(dir) ? dir : std::filesystem::path();
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

}  // namespace rave::test
