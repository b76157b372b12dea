// rave report: one self-contained HTML page about a run directory (analysis/render/report.h).
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>

#include "analysis/render/report.h"
#include "core/error.h"
#include "launch/commands/all.h"

namespace rave::launch {
namespace {

using io::po::value;

void declare(io::OptionSet& options) {
  options.flags()
      ("run-dir", value<std::string>(), "run directory of rave train (positional)")
      ("out", value<std::string>(), "HTML file (default RUN_DIR/report.html)")
      ("samples", value<int>()->default_value(3), "newest sample grids to include");
  options.positional("run-dir");
}

int run(const Invocation& invocation) {
  const auto& options = invocation.options;
  if (!options.count("run-dir")) throw UsageError("rave report needs a run directory", "rave report RUN_DIR");
  const std::filesystem::path run_dir = options["run-dir"].as<std::string>();
  const std::filesystem::path out =
      options.count("out") ? std::filesystem::path(options["out"].as<std::string>()) : run_dir / "report.html";
  analysis::ReportOptions report;
  report.max_samples = int(io::bounded_value(options, "samples", 0, 1000));
  const std::string html = analysis::render_report(run_dir, report);
  // Written beside and renamed, so a browser that has the report open never reads half a file.
  const std::filesystem::path partial = out.string() + ".tmp";
  {
    std::ofstream file(partial, std::ios::binary);
    file << html;
    if (!file.flush()) throw IoError("cannot write " + partial.string(), "check that the folder is writable");
  }
  std::error_code error;
  std::filesystem::rename(partial, out, error);
  if (error) throw IoError("cannot write " + out.string() + ": " + error.message(), "choose another --out");
  spdlog::info("wrote {} ({} KiB)", out.string(), html.size() / 1024);
  return 0;
}

}  // namespace

Command report_command() {
  return {"report", "HTML report of a training run (curves, samples, checkpoints)", false, declare, run};
}

}  // namespace rave::launch
