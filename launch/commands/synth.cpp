// rave synth: procedural backlit / well-lit scene pairs with train and test splits (io/synth_scenes.h), the data
// of the quickstart, so that a fresh machine can train without downloading anything.
#include <spdlog/spdlog.h>

#include "core/progress.h"
#include "io/synth_scenes.h"
#include "launch/commands/all.h"

namespace rave::launch {
namespace {

using io::po::value;

void declare(io::OptionSet& options) {
  options.flags()
      ("out", value<std::string>(), "output folder (gets train/ and test/, each with backlit/ and welllit/)")
      ("count", value<int>()->default_value(64), "number of scenes")
      ("size", value<int>()->default_value(256), "image side in pixels")
      ("seed", value<int64_t>()->default_value(0), "seed (the same seed gives the same pictures on every machine)")
      ("test-fraction", io::real_value(0.2), "share of the scenes held out in test/");
}

int run(const Invocation& invocation) {
  const auto& options = invocation.options;
  io::SynthOptions synth;
  synth.out = io::optional_value(options, "out");
  synth.count = options["count"].as<int>();
  synth.size = options["size"].as<int>();
  synth.seed = uint64_t(options["seed"].as<int64_t>());
  synth.test_fraction = options["test-fraction"].as<double>();
  const io::SynthCounts expected = io::split_counts(synth.count, synth.test_fraction);  // checks before any work
  core::Progress progress("rendering scenes", synth.count, true, "scenes");
  io::write_scene_set(synth, [&] { progress.advance(); });
  progress.finish();
  spdlog::info("wrote {} scene pairs of {}x{} to {}: {} in train/, {} in test/ (backlit/ and welllit/ each)",
               synth.count, synth.size, synth.size, synth.out.string(), expected.train, expected.test);
  return 0;
}

}  // namespace

Command synth_command() {
  return {"synth", "generate synthetic backlit scenes with ground truth", false, declare, run};
}

}  // namespace rave::launch
