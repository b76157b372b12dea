// `rave report`: one self-contained HTML file about a run directory, for people to look at: an overview, the
// loss, PSNR_Y and throughput curves of metrics.jsonl (inline SVG), the latest sample grids (embedded PNG), the
// checkpoints, and the residual vector with its vocabulary analysis. No scripts, fonts or links leave the file,
// so it opens offline and can be mailed or archived. Each section says so when its files are absent.
#pragma once

#include <filesystem>
#include <string>

namespace rave::analysis {

struct ReportOptions {
  int max_samples = 3;         // newest sample grids shown
  // Wider grids are downscaled (area filter) to keep the file small; grids narrower than half of it are
  // enlarged by a whole factor (nearest neighbour) so that small training images can be seen.
  int max_sample_width = 1536;
};

// The HTML text. Section ids: overview, losses, psnr, throughput, samples, checkpoints, residual.
// IoError only when `run_dir` is not a directory.
std::string render_report(const std::filesystem::path& run_dir, const ReportOptions& options = {});

}  // namespace rave::analysis
