// Checkpoint comparisons shared by the training tests (RAVE and CLIP-LIT, single and multi-rank).
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

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

}  // namespace rave::test
