// Watching a training run from its own test process: how far its metrics.jsonl has got, and a SIGUSR1 sent
// mid-run (what Slurm's --signal warning does) once it has got far enough.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <thread>

namespace rave::test {

// Number of lines of a text file; 0 when it does not exist (yet).
int64_t count_lines(const std::filesystem::path& file);

// Sends SIGUSR1 to this process once `metrics` has `after_lines` lines (the run is then mid-training), unless
// the run ended first (the destructor stops the watch).
class Signaller {
 public:
  Signaller(std::filesystem::path metrics, int64_t after_lines);
  ~Signaller();
  Signaller(const Signaller&) = delete;
  Signaller& operator=(const Signaller&) = delete;

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace rave::test
