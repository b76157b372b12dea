// rave plot: the training curves of a run directory as PNG files (analysis/render/plot.h).
#include <iostream>

#include "analysis/render/plot.h"
#include "core/error.h"
#include "launch/commands/all.h"

namespace rave::launch {
namespace {

using io::po::value;

void declare(io::OptionSet& options) {
  options.flags()
      ("run-dir", value<std::string>(), "run directory of rave train (positional)")
      ("out", value<std::string>(), "folder for the PNG files (default RUN_DIR/plots)")
      ("width", value<int>()->default_value(1200), "picture width in pixels")
      ("height", value<int>()->default_value(500), "picture height in pixels");
  options.positional("run-dir");
}

int run(const Invocation& invocation) {
  const auto& options = invocation.options;
  if (!options.count("run-dir")) throw UsageError("rave plot needs a run directory", "rave plot RUN_DIR");
  const std::filesystem::path run_dir = options["run-dir"].as<std::string>();
  const int width = int(io::bounded_value(options, "width", 320, 16384)),
            height = int(io::bounded_value(options, "height", 200, 16384));
  const auto written = analysis::plot_run(
      run_dir, options.count("out") ? std::filesystem::path(options["out"].as<std::string>()) : run_dir / "plots",
      width, height);
  if (written.empty()) throw IoError(run_dir.string() + "/metrics.jsonl holds no values to plot yet");
  for (const auto& path : written) std::cout << path.string() << "\n";
  return 0;
}

}  // namespace

Command plot_command() { return {"plot", "training curves of a run as PNG files", false, declare, run}; }

}  // namespace rave::launch
