#include "launch/metrics_log.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>

#include "core/error.h"

namespace rave::launch {
namespace {

// Rewrites `path` with only its lines of steps <= `last_step`, through a temporary file and a rename, so that a
// crash while trimming leaves the old file. Returns how many lines were dropped.
int64_t keep_steps_up_to(const std::string& path, int64_t last_step) {
  std::ifstream in(path);
  const std::string temporary = path + ".tmp";
  std::ofstream out(temporary, std::ios::trunc);
  if (!out) throw IoError("cannot write " + temporary, "check that the run directory is writable");
  int64_t dropped = 0;
  for (std::string line; std::getline(in, line);) {
    const nlohmann::json record = nlohmann::json::parse(line, nullptr, false);
    const bool keep = record.is_object() && record.contains("step") && record["step"].is_number_integer() &&
                      record["step"].get<int64_t>() <= last_step;
    if (keep) {
      out << line << '\n';
    } else {
      ++dropped;
    }
  }
  out.close();
  if (!out || std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    throw IoError("cannot rewrite " + path, "is the disk full?");
  }
  return dropped;
}

}  // namespace

MetricsLog::MetricsLog(const std::string& path, int64_t resumed_at) : path_(path) {
  if (std::filesystem::exists(path)) {
    const int64_t dropped = keep_steps_up_to(path, resumed_at);
    if (dropped > 0) {
      spdlog::info("{}: dropped {} line(s) after step {} (written after the checkpoint, or unreadable)", path, dropped,
                   resumed_at);
    }
  }
  out_.open(path, std::ios::app);
  if (!out_) throw IoError("cannot append to " + path, "check that the run directory is writable");
}

void MetricsLog::write(const nlohmann::json& line) {
  out_ << line.dump() << '\n';
  out_.flush();
  if (!out_) throw IoError("cannot write to " + path_, "is the disk full?");
}

}  // namespace rave::launch
