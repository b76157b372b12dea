// How a `rave bench` task reports: one JSON object on rank 0's stdout (the log goes to stderr), completed with
// what ran it, so that a side-by-side script can check that both sides had the same settings: the LibTorch
// version, device, ranks, intra-op threads and the OpenMP wait policy (OMP_WAIT_POLICY as the process saw it).
#pragma once

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "launch/command.h"

namespace rave::bench {

// Returns the exit code: 0.
int report(const launch::Invocation& invocation, nlohmann::ordered_json result);

}  // namespace rave::bench
