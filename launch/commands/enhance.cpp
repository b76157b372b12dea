// rave enhance: full-resolution inference with a trained or imported enhancer.
#include "launch/commands/all.h"

namespace rave::launch {
namespace {

using io::po::value;

void declare(io::OptionSet& options) {
  options.flags()
      ("checkpoint", value<std::string>(), "enhancer checkpoint (.h5)")
      ("input", value<std::string>(), "image file or folder")
      ("output", value<std::string>(), "output folder")
      ("light-map", io::po::bool_switch(), "also save the light map")
      ("max-side", value<int>()->default_value(0), "downscale inputs whose longer side exceeds N (0: never)");
}

}  // namespace

Command enhance_command() { return {"enhance", "enhance backlit images with a checkpoint", true, declare}; }

}  // namespace rave::launch
