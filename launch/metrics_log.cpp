#include "launch/metrics_log.h"

#include "dist/error.h"

namespace rave::launch {

MetricsLog::MetricsLog(const std::string& path) : path_(path), out_(path, std::ios::app) {
  if (!out_) throw IoError("cannot append to " + path, "check that the run directory is writable");
}

void MetricsLog::write(const nlohmann::json& line) {
  out_ << line.dump() << '\n';
  out_.flush();
  if (!out_) throw IoError("cannot write to " + path_, "is the disk full?");
}

}  // namespace rave::launch
