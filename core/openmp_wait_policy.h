// How LibTorch's OpenMP threads wait between parallel regions.
#pragma once

namespace rave::core {

// libgomp's default lets the OpenMP threads spin after every parallel region, while the matmuls run on
// OpenBLAS's own threads: on a machine whose cores are all in use the spinners take the cores the matmul
// threads need (a ViT-B/32 forward pass ran at half speed on 2 cores: bench/clip.sh). Sleeping waiters fix that.
// libgomp reads OMP_WAIT_POLICY once, when it loads, so this sets it to PASSIVE and re-executes the program
// (same arguments, same process id). A policy the user exported is kept; so is the spinning default when
// re-execution fails. Call it before MPI starts, with main()'s argv.
void prefer_passive_openmp_waits(char** argv);

}  // namespace rave::core
