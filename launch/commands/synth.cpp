// rave synth: procedural backlit / well-lit scene pairs for the quickstart.
#include "launch/commands/all.h"

namespace rave::launch {
namespace {

using io::po::value;

void declare(io::OptionSet& options) {
  options.flags()
      ("out", value<std::string>(), "output folder")
      ("count", value<int>()->default_value(64), "number of scenes")
      ("size", value<int>()->default_value(256), "image side in pixels")
      ("seed", value<int64_t>()->default_value(0), "seed");
}

}  // namespace

Command synth_command() { return {"synth", "generate synthetic backlit scenes with ground truth", false, declare}; }

}  // namespace rave::launch
