// The training log of a run directory, RUN_DIR/metrics.jsonl: one JSON object per enhancer step with `step`,
// `round`, `stage` and numbers (loss, guidance_loss, identity_loss, psnr_y, images_per_second, time, ...; any
// of them may be missing on a line). The report and the plots read it through here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rave::analysis {

struct MetricRecord {
  int64_t step = 0;
  int64_t round = 0;
  std::string stage;
  std::map<std::string, double> values;  // every other numeric key of the line

  std::optional<double> value(const std::string& key) const;
};

struct RunLog {
  std::vector<MetricRecord> records;  // sorted by step, one per step
  // Lines that are not a JSON object with an integer `step` (e.g. the half-written last line of a live run).
  int64_t malformed_lines = 0;
};

// IoError when the file cannot be opened. A step logged twice (a run resumed from an earlier checkpoint
// repeats the steps after it) keeps its last line.
RunLog read_run_log(const std::filesystem::path& path);

}  // namespace rave::analysis
