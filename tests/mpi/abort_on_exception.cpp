// Rank 1 throws; rank 0 is blocked in a barrier it would never leave. dist::run_guarded must end the job.
#include <mpi.h>

#include <stdexcept>

#include "dist/context.h"
#include "dist/error.h"
#include "dist/guard.h"
#include "dist/log.h"

int main(int argc, char** argv) {
  rave::dist::Context context(&argc, &argv, {"cpu", 1});
  rave::dist::setup_logging({context.rank(), context.world_size(), false, ""});
  return rave::dist::run_guarded(&context, [&] {
    if (context.rank() == 1) throw rave::Error("rank 1 failed on purpose", "this is the abort test");
    MPI_Barrier(context.comm());
    return 0;
  });
}
