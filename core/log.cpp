#include "core/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <vector>

#include "core/error.h"

namespace rave::core {

void setup_logging(const LogOptions& options) {
  std::vector<spdlog::sink_ptr> sinks;
  sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  if (!options.log_file.empty()) {
    std::string path = options.log_file;
    if (options.rank > 0) path += ".rank" + std::to_string(options.rank);
    try {
      sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, /*truncate=*/false));
    } catch (const spdlog::spdlog_ex& e) {
      throw IoError("cannot open log file " + path + ": " + e.what(), "check that its directory exists and is writable");
    }
  }
  auto logger = std::make_shared<spdlog::logger>("rave", sinks.begin(), sinks.end());
  const std::string prefix = "[rank " + std::to_string(options.rank) + "/" + std::to_string(options.world_size) + "]";
  logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] " + prefix + " [%^%l%$] %v");
  const bool loud = options.rank == 0 || options.verbose;
  logger->set_level(options.verbose ? spdlog::level::debug : (loud ? spdlog::level::info : spdlog::level::warn));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace rave::core
