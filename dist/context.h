// The process group of one rave run: MPI start-up and shutdown (RAII), rank and world size, the local rank
// on this machine, the compute device of this rank, and intra-op threads chosen so that the ranks sharing a
// machine do not oversubscribe its cores. Works under mpirun, under srun, and as a plain single process.
// <mpi.h> stays inside dist/: everything else talks to the other ranks through dist::Communicator.
#pragma once

#include <torch/types.h>

#include <string>

namespace rave::dist {

struct ContextOptions {
  // "auto" (cuda:<local_rank % gpus> when CUDA is available, else cpu), "cpu", "cuda" or "cuda:N".
  std::string device = "auto";
  // Intra-op threads of this rank; 0 = cores of this machine / ranks on this machine (at least 1).
  int threads = 0;
};

// More intra-op threads than this is a typo, not a machine: LibTorch would spend minutes starting them.
constexpr int kMaxThreads = 1024;

class Context {
 public:
  Context(int* argc, char*** argv, const ContextOptions& options = {});
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  int local_rank() const { return local_rank_; }
  int local_size() const { return local_size_; }
  bool is_root() const { return rank_ == 0; }
  const torch::Device& device() const { return device_; }
  int threads() const { return threads_; }
  const std::string& host() const { return host_; }

  // One line describing this rank (host, local rank, device, threads, Slurm job and restart count), for the
  // start-up log.
  std::string describe() const;

  // Ends every rank of the job at once; used when this rank cannot continue (an exception), so that the
  // others never wait forever in a collective.
  [[noreturn]] void abort(int exit_code) const;

 private:
  bool owns_mpi_ = false;
  int rank_ = 0;
  int world_size_ = 1;
  int local_rank_ = 0;
  int local_size_ = 1;
  int threads_ = 1;
  std::string host_;
  torch::Device device_{torch::kCPU};
};

// Device named by `spec` for a rank with this local rank ("auto", "cpu", "cuda", "cuda:N").
torch::Device choose_device(const std::string& spec, int local_rank);

// Intra-op threads for one of `local_size` ranks on a machine with `cores` cores.
int threads_per_rank(int cores, int local_size);

// Throws DistError naming host, rank and MPI's error string when `code` is not MPI_SUCCESS.
void check_mpi(int code, const char* call, const char* file, int line);
#define RAVE_MPI_CHECK(call) ::rave::dist::check_mpi((call), #call, __FILE__, __LINE__)

}  // namespace rave::dist
