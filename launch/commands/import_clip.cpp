// rave import-clip: an OpenAI CLIP TorchScript archive to an HDF5 state file.
#include "launch/commands/all.h"

namespace rave::launch {
namespace {

void declare(io::OptionSet& options) {
  options.flags()
      ("from", io::po::value<std::string>(), "OpenAI CLIP archive (.pt)")
      ("to", io::po::value<std::string>(), "HDF5 state file to write");
}

}  // namespace

Command import_clip_command() {
  return {"import-clip", "convert an OpenAI CLIP .pt archive to an HDF5 state file", false, declare};
}

}  // namespace rave::launch
