// Progress of a long loop (rate and ETA). On a terminal it redraws one line at most 5 times a second; when
// stderr is not a terminal (CI logs, Slurm output files) it logs a plain line every 10% or every 30 s.
// Only rank 0 reports (construct it with enabled = rank == 0).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace rave::core {

class Progress {
 public:
  Progress(std::string label, int64_t total, bool enabled = true, std::string unit = "it");
  ~Progress();

  void advance(int64_t n = 1);
  // Final line (also called by the destructor if not called before).
  void finish();

  int64_t done() const { return done_; }

 private:
  using Clock = std::chrono::steady_clock;
  std::string line() const;
  void report(bool final);

  std::string label_;
  std::string unit_;
  int64_t total_;
  int64_t done_ = 0;
  bool enabled_;
  bool tty_;
  bool finished_ = false;
  Clock::time_point start_;
  Clock::time_point last_report_;
  int64_t last_reported_done_ = 0;
};

// "1h02m", "3m07s", "12.4s".
std::string format_duration(double seconds);

}  // namespace rave::core
