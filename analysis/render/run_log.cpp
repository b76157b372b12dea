#include "analysis/render/run_log.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace rave::analysis {
namespace {

std::optional<MetricRecord> parse_line(const std::string& line) {
  const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("step") || !j["step"].is_number_integer()) return std::nullopt;
  MetricRecord record;
  record.step = j["step"].get<int64_t>();
  for (const auto& [key, value] : j.items()) {
    if (key == "step") continue;
    if (key == "round" && value.is_number_integer()) {
      record.round = value.get<int64_t>();
    } else if (key == "stage" && value.is_string()) {
      record.stage = value.get<std::string>();
    } else if (value.is_number()) {
      record.values[key] = value.get<double>();
    }
  }
  return record;
}

}  // namespace

std::optional<double> MetricRecord::value(const std::string& key) const {
  const auto it = values.find(key);
  return it == values.end() ? std::nullopt : std::optional<double>(it->second);
}

RunLog read_run_log(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw IoError("cannot read the training log " + path.string(), "it is written by rave train --run-dir");
  RunLog log;
  std::string line;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (auto record = parse_line(line)) {
      log.records.push_back(std::move(*record));
    } else {
      ++log.malformed_lines;
    }
  }
  // Stable sort keeps the file order within a step; then the last line of each step survives.
  std::stable_sort(log.records.begin(), log.records.end(),
                   [](const MetricRecord& a, const MetricRecord& b) { return a.step < b.step; });
  std::vector<MetricRecord> unique;
  for (auto& record : log.records) {
    if (!unique.empty() && unique.back().step == record.step) {
      unique.back() = std::move(record);
    } else {
      unique.push_back(std::move(record));
    }
  }
  log.records = std::move(unique);
  return log;
}

}  // namespace rave::analysis
