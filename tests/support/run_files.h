// What a training run leaves, read the way the training tests (RAVE and CLIP-LIT, single and multi-rank) check it.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "io/checkpoint.h"

namespace rave::test {

// Every tensor of two checkpoints equal: the same names, bit for bit.
inline void expect_same_tensors(const io::Checkpoint& a, const io::Checkpoint& b) {
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const auto& [name, tensor] : a.tensors) {
    ASSERT_TRUE(b.tensors.count(name)) << name;
    EXPECT_TRUE(torch::equal(tensor, b.tensors.at(name))) << name;
  }
}

// `run_dir`/checkpoints/step_<8-digit step>.h5, as rave train names them.
inline std::filesystem::path checkpoint_at(const std::filesystem::path& run_dir, int64_t step) {
  char name[32];
  std::snprintf(name, sizeof name, "step_%08lld.h5", static_cast<long long>(step));
  return run_dir / "checkpoints" / name;
}

// The lines of `run_dir`/metrics.jsonl, parsed (a malformed line throws).
inline std::vector<nlohmann::json> metrics_lines(const std::filesystem::path& run_dir) {
  std::ifstream in(run_dir / "metrics.jsonl");
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

}  // namespace rave::test
