#include "analysis/render/report.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <sstream>

#include "analysis/render/chart.h"
#include "analysis/render/html.h"
#include "analysis/render/run_artifacts.h"
#include "analysis/render/run_log.h"
#include "analysis/render/svg.h"
#include "core/error.h"
#include "core/progress.h"
#include "io/image.h"
#include "io/image_codec.h"
#include "models/enhancer.h"

namespace rave::analysis {
namespace {

namespace fs = std::filesystem;

const char* const kStyle =
    "body{font-family:sans-serif;margin:24px auto;max-width:1240px;color:#222;padding:0 16px}"
    "h1{margin-bottom:4px}h2{border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:32px}"
    ".path{color:#666;margin-top:0}nav a{margin-right:14px}"
    "table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #eee;text-align:left}"
    "th{background:#f5f5f5}td.num{text-align:right;font-variant-numeric:tabular-nums}"
    ".absent{color:#8a5a00;background:#fff7e6;padding:8px 12px;border-left:3px solid #f0b429}"
    "figure{margin:12px 0}figure img{max-width:100%;border:1px solid #ddd}figcaption{color:#555}"
    "pre{background:#f7f7f7;padding:8px;overflow:auto}";

struct Html {
  std::ostringstream out;

  void absent(const std::string& text) { out << "<p class=\"absent\">" << html_escape(text) << "</p>"; }
  void open_section(const std::string& id, const std::string& title) {
    out << "<section id=\"" << id << "\"><h2>" << html_escape(title) << "</h2>";
  }
  void close_section() { out << "</section>\n"; }
};

std::string fixed(double value, int decimals) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(decimals);
  out << value;
  return out.str();
}

// "812 B", "3.4 KiB", "12.1 MiB".
std::string file_size(std::uintmax_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  if (bytes < 1024 * 1024) return fixed(bytes / 1024.0, 1) + " KiB";
  return fixed(bytes / 1048576.0, 1) + " MiB";
}

void row(Html& html, const std::string& key, const std::string& value) {
  html.out << "<tr><th>" << html_escape(key) << "</th><td>" << html_escape(value) << "</td></tr>";
}

std::optional<RunLog> try_read_log(const fs::path& path) {
  std::error_code error;
  if (!fs::is_regular_file(path, error)) return std::nullopt;
  return read_run_log(path);
}

void overview(Html& html, const std::optional<RunLog>& log, const std::vector<CheckpointSummary>& checkpoints) {
  html.open_section("overview", "Overview");
  html.out << "<table>";
  std::string method;
  for (const CheckpointSummary& c : checkpoints) {
    if (c.error.empty() && !c.method.empty()) method = c.method;  // sorted by step: the newest wins
  }
  row(html, "method", method.empty() ? "unknown (no readable checkpoint)" : method);
  if (log && !log->records.empty()) {
    const MetricRecord& last = log->records.back();
    row(html, "steps logged", std::to_string(log->records.front().step) + " to " + std::to_string(last.step));
    row(html, "latest stage", last.stage + " (round " + std::to_string(last.round) + ")");
    if (const auto loss = last.value("loss")) row(html, "latest loss", fixed(*loss, 4));
    std::optional<std::pair<double, int64_t>> best;
    double throughput = 0;
    int64_t throughput_count = 0;
    for (const MetricRecord& r : log->records) {
      if (const auto p = r.value("psnr_y"); p && (!best || *p > best->first)) best.emplace(*p, r.step);
      if (const auto t = r.value("images_per_second")) throughput += *t, ++throughput_count;
    }
    if (best) row(html, "best PSNR_Y", fixed(best->first, 2) + " dB at step " + std::to_string(best->second));
    if (throughput_count) row(html, "mean throughput", fixed(throughput / throughput_count, 1) + " images/s");
    if (const auto time = last.value("time")) row(html, "elapsed", core::format_duration(*time));
  }
  const auto unreadable = std::count_if(checkpoints.begin(), checkpoints.end(),
                                       [](const CheckpointSummary& c) { return !c.error.empty(); });
  row(html, "checkpoints",
      std::to_string(checkpoints.size()) + (unreadable ? " (" + std::to_string(unreadable) + " unreadable)" : ""));
  html.out << "</table>";
  if (log && log->malformed_lines > 0) {
    html.absent(std::to_string(log->malformed_lines) + " line(s) of metrics.jsonl could not be read and were skipped.");
  }
  html.close_section();
}

void curves(Html& html, const std::optional<RunLog>& log, const fs::path& run_dir) {
  const std::vector<Chart> charts = log ? training_charts(*log) : training_charts(RunLog{});
  const char* const titles[] = {"Losses", "PSNR_Y", "Throughput"};
  for (size_t i = 0; i < charts.size(); ++i) {
    html.open_section(charts[i].id, titles[i]);
    if (!log) {
      html.absent("No metrics.jsonl in " + run_dir.string() + ": rave train writes it to its --run-dir.");
    } else if (charts[i].empty()) {
      html.absent("metrics.jsonl holds no values for this chart yet.");
    } else {
      html.out << chart_svg(charts[i]);
    }
    html.close_section();
  }
}

// A sample grid as an embedded PNG, downscaled when wide, enlarged when tiny.
std::string png_data_uri(const fs::path& path, int max_width) {
  const torch::Tensor rgb = io::read_image_u8(path.string()).contiguous();
  const cv::Mat view(static_cast<int>(rgb.size(0)), static_cast<int>(rgb.size(1)), CV_8UC3, rgb.data_ptr<uint8_t>());
  cv::Mat bgr;
  cv::cvtColor(view, bgr, cv::COLOR_RGB2BGR);
  if (bgr.cols > max_width) {
    const double scale = double(max_width) / bgr.cols;
    cv::resize(bgr, bgr, cv::Size(max_width, std::max(1, static_cast<int>(std::lround(bgr.rows * scale)))), 0, 0,
               cv::INTER_AREA);
  } else if (const int factor = max_width / 2 / bgr.cols; factor > 1) {
    // Grids of small training images (64 px in tests and quick runs) are enlarged by whole pixels, sharp.
    cv::resize(bgr, bgr, cv::Size(), factor, factor, cv::INTER_NEAREST);
  }
  return "data:image/png;base64," + base64(io::codec::encode_png(bgr));
}

void samples(Html& html, const fs::path& run_dir, const ReportOptions& options) {
  html.open_section("samples", "Sample grids");
  const std::vector<SampleGrid> grids = list_sample_grids(run_dir);
  if (grids.empty()) html.absent("No samples/step_<N>.png in " + run_dir.string() + ".");
  const size_t shown = std::min(grids.size(), static_cast<size_t>(std::max(options.max_samples, 0)));
  for (size_t i = 0; i < shown; ++i) {
    const SampleGrid& grid = grids[grids.size() - 1 - i];
    try {
      const std::string uri = png_data_uri(grid.path, options.max_sample_width);
      html.out << "<figure><img alt=\"sample grid at step " << grid.step << "\" src=\"" << uri
               << "\"><figcaption>step " << grid.step << ": input | enhanced | light map</figcaption></figure>";
    } catch (const Error& e) {
      html.absent(std::string("Could not show ") + grid.path.filename().string() + ": " + e.what());
    }
  }
  if (grids.size() > shown) {
    html.out << "<p>" << grids.size() - shown << " older grid(s) in samples/ are not shown.</p>";
  }
  html.close_section();
}

void checkpoint_table(Html& html, const fs::path& run_dir, const std::vector<CheckpointSummary>& checkpoints) {
  html.open_section("checkpoints", "Checkpoints");
  if (checkpoints.empty()) {
    html.absent("No checkpoints/*.h5 in " + run_dir.string() + ".");
    html.close_section();
    return;
  }
  html.out << "<table><tr><th>file</th><th>step</th><th>round</th><th>stage</th><th>method</th><th>ranks</th>"
           << "<th>trained with cond* padding</th><th>size</th></tr>";
  const auto number = [](int64_t v) { return v < 0 ? std::string("?") : std::to_string(v); };
  const CheckpointSummary* newest = nullptr;
  for (const CheckpointSummary& c : checkpoints) {
    html.out << "<tr><td>" << html_escape(c.path.filename().string()) << "</td>";
    if (!c.error.empty()) {
      html.out << "<td colspan=\"6\">unreadable: " << html_escape(c.error) << "</td>";
    } else {
      newest = &c;
      html.out << "<td class=\"num\">" << number(c.step) << "</td><td class=\"num\">" << number(c.round) << "</td><td>"
               << html_escape(c.stage) << "</td><td>" << html_escape(c.method)
               << (c.format == "rave-checkpoint" ? "" : " (format '" + html_escape(c.format) + "')")
               << "</td><td class=\"num\">" << number(c.world_size) << "</td><td>"
               << html_escape(c.training_padding.empty() ? "?" : c.training_padding) << "</td>";
    }
    html.out << "<td class=\"num\">" << file_size(c.bytes) << "</td></tr>";
  }
  html.out << "</table><p><code>rave enhance</code> runs every checkpoint with <b>"
           << models::kEvaluationPadding
           << "</b> padding on the cond* convolutions, as both papers evaluate their models, whatever padding they "
              "were trained with; <code>--padding zeros</code> runs them as trained.</p>";
  if (newest && !newest->config.empty()) {
    html.out << "<details><summary>configuration of " << html_escape(newest->path.filename().string())
             << "</summary><pre>" << html_escape(newest->config) << "</pre></details>";
  }
  html.close_section();
}

void residual(Html& html, const fs::path& run_dir) {
  html.open_section("residual", "Residual vector");
  const fs::path residual_path = run_dir / "residual.h5", analysis_path = run_dir / "analysis.json";
  std::error_code error;
  if (!fs::is_regular_file(residual_path, error)) {
    html.absent("No residual.h5 in " + run_dir.string() + " (RAVE runs write it; CLIP-LIT runs have none).");
  } else {
    try {
      const ResidualSummary r = read_residual_summary(residual_path);
      html.out << "<table>";
      row(html, "dimension", std::to_string(r.dim));
      row(html, "|r|", fixed(r.norm, 6));
      row(html, "tau", fixed(r.tau, 6));
      // For an unshifted residual tau = sqrt((1 - <v_pos, v_neg>) / 2) (ALGORITHMS 4.6.1); a shifted one differs.
      row(html, "<v_pos, v_neg>", fixed(r.cos_pos_neg, 6) + "  (unshifted tau would be " +
                                      fixed(std::sqrt(std::max(0.0, (1 - r.cos_pos_neg) / 2)), 6) + ")");
      row(html, "images", std::to_string(r.n_pos) + " well-lit, " + std::to_string(r.n_neg) + " backlit");
      html.out << "</table>";
    } catch (const Error& e) {
      html.absent(std::string("residual.h5 could not be read: ") + e.what());
    }
  }
  if (!fs::is_regular_file(analysis_path, error)) {
    html.absent("No analysis.json: rave analyze --json > " + analysis_path.string() + " adds the token chart.");
  } else {
    try {
      const TokenAnalysis tokens = read_token_analysis(analysis_path);
      std::vector<Bar> bars;
      for (const TokenScore& t : tokens.top) bars.push_back({t.token, t.score, series_colour(0)});
      for (const TokenScore& t : tokens.bottom) bars.push_back({t.token, t.score, series_colour(1)});
      html.out << bar_chart_svg(bars, "Vocabulary tokens most (blue) and least (orange) aligned with r");
    } catch (const Error& e) {
      html.absent(std::string("analysis.json could not be read: ") + e.what());
    }
  }
  html.close_section();
}

std::string now_text() {
  const std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S", std::localtime(&now));
  return text;
}

}  // namespace

std::string render_report(const fs::path& run_dir, const ReportOptions& options) {
  std::error_code error;
  if (!fs::is_directory(run_dir, error)) {
    throw IoError("run directory " + run_dir.string() + " does not exist", "pass the --run-dir of rave train");
  }
  const std::optional<RunLog> log = try_read_log(run_dir / "metrics.jsonl");
  const std::vector<CheckpointSummary> checkpoints = read_checkpoints(run_dir);
  const std::string name = fs::absolute(run_dir).lexically_normal().filename().string();
  Html html;
  html.out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>rave run " << html_escape(name)
           << "</title><style>" << kStyle << "</style></head><body>\n<h1>rave run " << html_escape(name)
           << "</h1><p class=\"path\">" << html_escape(fs::absolute(run_dir).string()) << " &middot; report written "
           << now_text() << "</p><nav><a href=\"#overview\">overview</a><a href=\"#losses\">losses</a>"
           << "<a href=\"#psnr\">PSNR_Y</a><a href=\"#throughput\">throughput</a><a href=\"#samples\">samples</a>"
           << "<a href=\"#checkpoints\">checkpoints</a><a href=\"#residual\">residual</a></nav>\n";
  overview(html, log, checkpoints);
  curves(html, log, run_dir);
  samples(html, run_dir, options);
  checkpoint_table(html, run_dir, checkpoints);
  residual(html, run_dir);
  html.out << "</body></html>\n";
  return html.out.str();
}

}  // namespace rave::analysis
