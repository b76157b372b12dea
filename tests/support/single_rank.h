// A world of one rank without MPI, for the unit tests of functions that take a communicator.
#pragma once

#include <string>

#include "core/error.h"
#include "dist/communicator.h"

namespace rave::test {

class SingleRank : public dist::Communicator {
 public:
  const char* backend() const override { return "none"; }
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  void all_reduce_sum(const torch::Tensor&) override {}
  void broadcast(const torch::Tensor&, int) override {}
  void barrier() override {}
  [[noreturn]] void abort(const std::string& message) override { throw Error(message); }
};

}  // namespace rave::test
