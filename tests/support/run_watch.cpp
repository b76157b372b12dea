#include "tests/support/run_watch.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>

namespace rave::test {

int64_t count_lines(const std::filesystem::path& file) {
  std::ifstream in(file);
  int64_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

Signaller::Signaller(std::filesystem::path metrics, int64_t after_lines)
    : thread_([this, metrics = std::move(metrics), after_lines] {
        while (!done_) {
          if (count_lines(metrics) >= after_lines) {
            kill(getpid(), SIGUSR1);
            return;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
      }) {}

Signaller::~Signaller() {
  done_ = true;
  thread_.join();
}

}  // namespace rave::test
