// rave residual: the RAVE residual vector of a backlit and a well-lit folder.
#include "launch/commands/all.h"

namespace rave::launch {
namespace {

using io::po::value;

void declare(io::OptionSet& options) {
  options.section("data")
      ("backlit", value<std::string>(), "folder of backlit images")
      ("welllit", value<std::string>(), "folder of well-lit images");
  options.section("guidance")("clip", value<std::string>(), "guidance encoder (CLIP ViT .pt/.h5 or 'photometric')");
  options.flags()("out", value<std::string>(), "output HDF5 file (r, tau, v_pos, v_neg, counts)");
}

}  // namespace

Command residual_command() {
  return {"residual", "compute the residual vector of a backlit and a well-lit image folder", true, declare};
}

}  // namespace rave::launch
