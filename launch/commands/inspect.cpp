// rave inspect: summary of a checkpoint or residual file.
#include "launch/commands/all.h"

namespace rave::launch {
namespace {

void declare(io::OptionSet& options) {
  options.flags()
      ("file", io::po::value<std::string>(), "checkpoint or residual file (positional)")
      ("json", io::po::bool_switch(), "print JSON");
  options.positional("file");
}

}  // namespace

Command inspect_command() { return {"inspect", "summarise a rave HDF5 file", false, declare}; }

}  // namespace rave::launch
