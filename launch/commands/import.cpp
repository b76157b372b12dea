// rave import: published PyTorch enhancer weights to a rave checkpoint.
#include "launch/commands/all.h"

namespace rave::launch {
namespace {

void declare(io::OptionSet& options) {
  options.flags()
      ("from", io::po::value<std::string>(), "PyTorch checkpoint (.pth)")
      ("to", io::po::value<std::string>(), "rave checkpoint to write (.h5)");
}

}  // namespace

Command import_command() { return {"import", "import published enhancer weights (.pth) into HDF5", false, declare}; }

}  // namespace rave::launch
