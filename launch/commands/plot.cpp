// rave plot: the training curves of a run directory as PNG files (analysis/render/plot.h).
#include <iostream>
#include <optional>

#include "analysis/render/plot.h"
#include "core/error.h"
#include "io/option_binder.h"
#include "launch/commands/all.h"

namespace rave::launch {
namespace {

// Every flag of rave plot (io/option_binder.h) with its default.
struct PlotFlags {
  std::optional<std::string> run_dir;
  std::optional<std::string> out;  // default RUN_DIR/plots
  int width = 1200;
  int height = 500;
};

void bind(io::OptionBinder& b, PlotFlags& f) {
  b.command_line_only();
  b.bind("run-dir", f.run_dir, "run directory of rave train (positional)");
  b.bind("out", f.out, "folder for the PNG files (default RUN_DIR/plots)");
  b.bind("width", f.width, "picture width in pixels");
  b.bind("height", f.height, "picture height in pixels");
  b.positional("run-dir");
}

int run(const Invocation& invocation) {
  const PlotFlags flags = io::read_flags<PlotFlags>(invocation.options);
  if (!flags.run_dir) throw UsageError("rave plot needs a run directory", "rave plot RUN_DIR");
  const std::filesystem::path run_dir = *flags.run_dir;
  io::check_range("width", flags.width, 320, 16384);
  io::check_range("height", flags.height, 200, 16384);
  const auto written = analysis::plot_run(
      run_dir, flags.out ? std::filesystem::path(*flags.out) : run_dir / "plots", flags.width, flags.height);
  if (written.empty()) throw IoError(run_dir.string() + "/metrics.jsonl holds no values to plot yet");
  for (const auto& path : written) std::cout << path.string() << "\n";
  return 0;
}

}  // namespace

Command plot_command() {
  return {"plot", "training curves of a run as PNG files", false, io::declare_flags<PlotFlags>, run};
}

}  // namespace rave::launch
