// RUN_DIR/metrics.jsonl: one JSON object per enhancer step (step, round, stage, loss, guidance_loss,
// identity_loss, psnr_y, images_per_second, time), appended and flushed line by line so that `rave report`
// and `tail -f` see a live run, and a resumed run continues the same file.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <fstream>
#include <string>

namespace rave::launch {

class MetricsLog {
 public:
  // Appends to `path` (rank 0 only should construct one) after the lines of steps 1..`resumed_at`: the lines
  // of steps after the checkpoint a run resumes from (written before it was killed) are dropped, because the
  // resumed run writes those steps again; a fresh run (`resumed_at` 0) starts an empty file.
  MetricsLog(const std::string& path, int64_t resumed_at);
  void write(const nlohmann::json& line);

 private:
  std::string path_;
  std::ofstream out_;
};

}  // namespace rave::launch
