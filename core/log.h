// Logging set-up: every line carries "[rank r/n]"; rank 0 logs at info, the other ranks at warning unless
// verbose (so N ranks do not print N copies of the same progress line).
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace rave::core {

struct LogOptions {
  int rank = 0;
  int world_size = 1;
  bool verbose = false;
  // When set, rank 0 also writes to this file and rank r > 0 to "<log_file>.rank<r>".
  std::string log_file;
};

void setup_logging(const LogOptions& options);

}  // namespace rave::core
