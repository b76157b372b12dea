// Runs a rank's work and turns any exception into one log line and an exit code: 2 for usage errors,
// 1 otherwise. In a multi-rank job the failing rank aborts the whole job (MPI_Abort) so that no rank is left
// waiting for it in a collective.
#pragma once

#include <functional>

#include "dist/context.h"

namespace rave::dist {

// `context` may be null (commands that do not start MPI).
int run_guarded(const Context* context, const std::function<int()>& work);

}  // namespace rave::dist
