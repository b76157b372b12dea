// rave synth: procedural backlit / well-lit scene pairs with train and test splits (io/synth_scenes.h), the data
// of the quickstart, so that a fresh machine can train without downloading anything.
#include <spdlog/spdlog.h>

#include "core/progress.h"
#include "io/option_binder.h"
#include "io/synth_scenes.h"
#include "launch/commands/all.h"

namespace rave::launch {
namespace {

// Every flag of rave synth (io/option_binder.h), bound to SynthOptions, with its defaults. The struct of this file
// holds them because io::declare_flags finds the table next to its type, and SynthOptions lives in io/.
struct SynthFlags {
  io::SynthOptions synth;
};

void bind(io::OptionBinder& b, SynthFlags& f) {
  io::SynthOptions& o = f.synth;
  b.command_line_only();
  b.bind("out", o.out, "output folder (gets train/ and test/, each with backlit/ and welllit/)");
  b.bind("count", o.count, "number of scenes");
  b.bind("size", o.size, "image side in pixels");
  b.bind("seed", o.seed, "seed (the same seed gives the same pictures on every machine)");
  b.bind("test-fraction", o.test_fraction, "share of the scenes held out in test/");
}

int run(const Invocation& invocation) {
  const io::SynthOptions synth = io::read_flags<SynthFlags>(invocation.options).synth;
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
  return {"synth", "generate synthetic backlit scenes with ground truth", false, io::declare_flags<SynthFlags>,
          run};
}

}  // namespace rave::launch
