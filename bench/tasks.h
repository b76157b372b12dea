// The tasks of `rave bench`: each is a subcommand of its own (`rave bench step --help`), run by the same
// dispatcher as rave's other subcommands (so it gets --device, --threads, --config and MPI), and prints one JSON
// object on stdout (report.h). The bench/*.sh scripts run them beside the PyTorch baselines in bench/*.py.
#pragma once

#include <vector>

#include "launch/command.h"

namespace rave::bench {

// Every task, in the order `rave bench --help` lists them.
const std::vector<launch::Command>& tasks();

launch::Command step_task();
launch::Command residual_task();
launch::Command clip_task();
launch::Command enhance_task();
launch::Command allreduce_task();
launch::Command vocabulary_task();
launch::Command loader_task();
launch::Command clip_lit_task();
launch::Command sgemm_task();
launch::Command smoke_task();

}  // namespace rave::bench
