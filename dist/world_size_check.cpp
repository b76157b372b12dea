#include "dist/world_size_check.h"

#include <cstdlib>

#include "core/error.h"

namespace rave::dist {
namespace {

bool is_set(const char* name) {
  const char* value = std::getenv(name);
  return value && *value;
}

}  // namespace

LaunchEnvironment LaunchEnvironment::current() {
  LaunchEnvironment launch;
  launch.from_mpirun = is_set("OMPI_COMM_WORLD_SIZE") || is_set("PMI_SIZE");
  for (const char* name : {"SLURM_STEP_NUM_TASKS", "SLURM_NTASKS"}) {
    if (is_set(name)) {
      launch.slurm_tasks = std::atoi(std::getenv(name));
      launch.slurm_tasks_variable = name;
      break;
    }
  }
  return launch;
}

void check_world_size(const LaunchEnvironment& launch, int world_size) {
  if (launch.from_mpirun || launch.slurm_tasks <= 0 || launch.slurm_tasks == world_size) return;
  const std::string tasks = std::to_string(launch.slurm_tasks);
  const std::string slurm = launch.slurm_tasks_variable + "=" + tasks;
  const std::string how = "launch with srun --mpi=pmix (srun --mpi=list shows what this Slurm offers; the MPI must be "
                          "built with Slurm/PMIx support) or with mpirun inside the allocation; see slurm/README.md";
  if (launch.slurm_tasks_variable == "SLURM_NTASKS") {
    // A batch script ran rave itself instead of through srun or mpirun.
    throw UsageError("rave was started as " + std::to_string(world_size) + " process(es) in a Slurm allocation of " +
                         tasks + " tasks (" + slurm + ") without srun or mpirun",
                     "start it with srun --mpi=pmix (or mpirun) to use every task, or submit with --ntasks=" +
                         std::to_string(world_size));
  }
  if (world_size == 1) {
    throw UsageError("MPI sees a world of 1 rank but Slurm started " + tasks + " tasks (" + slurm +
                         "): each task is its own single-rank MPI job (the 'N singletons' mistake) and all of them "
                         "would repeat the same work and overwrite the same files",
                     how);
  }
  throw UsageError("MPI sees a world of " + std::to_string(world_size) + " ranks but Slurm started " + tasks +
                       " tasks (" + slurm + ")",
                   how);
}

}  // namespace rave::dist
