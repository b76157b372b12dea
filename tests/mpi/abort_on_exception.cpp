// Rank 1 throws; rank 0 is blocked in a barrier it would never leave. dist::run_guarded must end the job.
#include <stdexcept>

#include "core/error.h"
#include "core/log.h"
#include "dist/communicator.h"
#include "dist/context.h"
#include "dist/guard.h"

int main(int argc, char** argv) {
  rave::dist::Context context(&argc, &argv, {"cpu", 1});
  rave::core::setup_logging({context.rank(), context.world_size(), false, ""});
  return rave::dist::run_guarded(&context, [&] {
    if (context.rank() == 1) throw rave::Error("rank 1 failed on purpose", "this is the abort test");
    rave::dist::make_communicator(context, "mpi")->barrier();
    return 0;
  });
}
