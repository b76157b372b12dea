// RUN_DIR/metrics.jsonl: one JSON object per enhancer step (step, round, stage, loss, guidance_loss,
// identity_loss, psnr_y, images_per_second, time), appended and flushed line by line so that `rave report`
// and `tail -f` see a live run, and a resumed run continues the same file.
#pragma once

#include <nlohmann/json.hpp>

#include <fstream>
#include <string>

namespace rave::launch {

class MetricsLog {
 public:
  // Appends to `path` (rank 0 only should construct one).
  explicit MetricsLog(const std::string& path);
  void write(const nlohmann::json& line);

 private:
  std::string path_;
  std::ofstream out_;
};

}  // namespace rave::launch
