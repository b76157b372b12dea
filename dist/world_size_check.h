// Under Slurm the MPI world must be the tasks Slurm started. The classic mistake is "N singletons": `srun -n 4`
// with an MPI that does not speak Slurm's PMI starts four processes that each see a world of one rank, so all
// four repeat the same work and overwrite each other's files. The launcher's environment is read before
// MPI_Init and compared with the world MPI reports after it.
#pragma once

#include <string>

namespace rave::dist {

// What the launcher told this process, read before MPI_Init (MPI may add variables of its own).
struct LaunchEnvironment {
  // Started by an mpirun/mpiexec (Open MPI's OMPI_COMM_WORLD_SIZE or Hydra's PMI_SIZE): mpirun sized the
  // world itself and checks it against the allocation, so there is nothing to compare.
  bool from_mpirun = false;
  // Tasks Slurm started: SLURM_STEP_NUM_TASKS inside an srun step, else SLURM_NTASKS (a process started directly
  // by a batch script); 0 outside Slurm.
  int slurm_tasks = 0;
  std::string slurm_tasks_variable;  // which of the two variables

  static LaunchEnvironment current();
};

// Throws UsageError explaining the mistake and how to launch instead when the MPI world of `world_size` ranks
// is not the set of tasks Slurm started.
void check_world_size(const LaunchEnvironment& launch, int world_size);

}  // namespace rave::dist
