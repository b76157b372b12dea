// rave report: one self-contained HTML page about a run directory (analysis/render/report.h).
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "analysis/render/report.h"
#include "core/error.h"
#include "io/option_binder.h"
#include "launch/commands/all.h"

namespace rave::launch {
namespace {

// Every flag of rave report (io/option_binder.h); the number of samples goes to ReportOptions, with its default.
struct ReportFlags {
  std::optional<std::string> run_dir;
  std::optional<std::string> out;  // default RUN_DIR/report.html
  analysis::ReportOptions report;
};

void bind(io::OptionBinder& b, ReportFlags& f) {
  b.command_line_only();
  b.bind("run-dir", f.run_dir, "run directory of rave train (positional)");
  b.bind("out", f.out, "HTML file (default RUN_DIR/report.html)");
  b.bind("samples", f.report.max_samples, "newest sample grids to include");
  b.positional("run-dir");
}

int run(const Invocation& invocation) {
  const ReportFlags flags = io::read_flags<ReportFlags>(invocation.options);
  if (!flags.run_dir) throw UsageError("rave report needs a run directory", "rave report RUN_DIR");
  const std::filesystem::path run_dir = *flags.run_dir;
  const std::filesystem::path out = flags.out ? std::filesystem::path(*flags.out) : run_dir / "report.html";
  io::check_range("samples", flags.report.max_samples, 0, 1000);
  const std::string html = analysis::render_report(run_dir, flags.report);
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
  return {"report", "HTML report of a training run (curves, samples, checkpoints)", false,
          io::declare_flags<ReportFlags>, run};
}

}  // namespace rave::launch
