// A subcommand of the `rave` executable: its options, and what it runs. The dispatcher (main.cpp) adds the
// options every subcommand shares, parses flags and the --config file, starts MPI for distributed commands,
// sets up logging, logs the effective configuration and runs the command under dist::run_guarded.
#pragma once

#include <string>
#include <vector>

#include "dist/context.h"
#include "io/options.h"

namespace rave::launch {

struct Invocation {
  const io::po::variables_map& options;
  const dist::Context* context;  // null unless the command is distributed
  std::string config_ini;        // effective configuration (stored in checkpoints)
};

struct Command {
  std::string name;
  std::string summary;
  bool distributed = false;              // runs under mpirun/srun as N ranks
  void (*declare)(io::OptionSet&) = nullptr;
  int (*run)(const Invocation&) = nullptr;
};

// Every subcommand, in the order `rave --help` lists them.
const std::vector<Command>& commands();

}  // namespace rave::launch
