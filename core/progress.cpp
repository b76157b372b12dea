#include "core/progress.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace rave::core {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  char buf[32];
  if (seconds < 60) {
    std::snprintf(buf, sizeof buf, "%.1fs", seconds);
  } else if (seconds < 3600) {
    std::snprintf(buf, sizeof buf, "%dm%02ds", int(seconds) / 60, int(seconds) % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%dh%02dm", int(seconds) / 3600, (int(seconds) % 3600) / 60);
  }
  return buf;
}

Progress::Progress(std::string label, int64_t total, bool enabled, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      enabled_(enabled),
      tty_(isatty(STDERR_FILENO) != 0),
      start_(Clock::now()),
      last_report_(start_) {}

Progress::~Progress() {
  if (!finished_) finish();
}

void Progress::advance(int64_t n) {
  done_ += n;
  if (!enabled_) return;
  const auto now = Clock::now();
  const double since = std::chrono::duration<double>(now - last_report_).count();
  bool due;
  if (tty_) {
    due = since >= 0.2;
  } else {
    const int64_t tenth = total_ > 0 ? std::max<int64_t>(1, total_ / 10) : 0;
    due = since >= 30.0 || (tenth > 0 && done_ / tenth != last_reported_done_ / tenth);
  }
  if (due && done_ < total_) report(false);
}

void Progress::finish() {
  finished_ = true;
  if (enabled_) report(true);
}

std::string Progress::line() const {
  const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  const double rate = elapsed > 0 ? double(done_) / elapsed : 0.0;
  char buf[256];
  if (total_ > 0) {
    const double eta = rate > 0 ? double(total_ - done_) / rate : NAN;
    std::snprintf(buf, sizeof buf, "%s: %lld/%lld (%.0f%%) %.2f %s/s, elapsed %s, eta %s", label_.c_str(),
                  static_cast<long long>(done_), static_cast<long long>(total_), 100.0 * double(done_) / double(total_),
                  rate, unit_.c_str(), format_duration(elapsed).c_str(), format_duration(eta).c_str());
  } else {
    std::snprintf(buf, sizeof buf, "%s: %lld %s, %.2f %s/s, elapsed %s", label_.c_str(), static_cast<long long>(done_),
                  unit_.c_str(), rate, unit_.c_str(), format_duration(elapsed).c_str());
  }
  return buf;
}

void Progress::report(bool final) {
  last_report_ = Clock::now();
  last_reported_done_ = done_;
  if (tty_) {
    // Redraw in place; the final report ends the line so later log lines start clean.
    std::fprintf(stderr, "\r\033[K%s%s", line().c_str(), final ? "\n" : "");
    std::fflush(stderr);
  } else {
    spdlog::info("{}", line());
  }
}

}  // namespace rave::core
