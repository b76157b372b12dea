// Shared helpers of the test suites: the fixtures folder and scratch directories.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "dist/communicator.h"

namespace rave::test {

// ../shared/fixtures (or RAVE_FIXTURES_DIR), or an empty path when it is absent.
std::filesystem::path fixtures_dir();

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

}  // namespace rave::test

// Skips the current test with a message when the shared fixtures are not beside the checkout.
#define RAVE_REQUIRE_FIXTURES()                                                                        \
  do {                                                                                                 \
    if (::rave::test::fixtures_dir().empty()) GTEST_SKIP() << "shared fixtures not found (set RAVE_FIXTURES_DIR)"; \
  } while (0)
