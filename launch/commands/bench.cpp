// rave bench: built-in throughput benchmarks (JSON).
#include "launch/commands/all.h"

namespace rave::launch {
namespace {

void declare(io::OptionSet& options) {
  options.flags()("what", io::po::value<std::string>(), "benchmark to run (positional)");
  options.positional("what");
}

}  // namespace

Command bench_command() { return {"bench", "throughput benchmarks of training components (JSON)", true, declare}; }

}  // namespace rave::launch
