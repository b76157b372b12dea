#include "dist/context.h"

#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <dlfcn.h>
#include <mpi.h>
#include <spdlog/spdlog.h>
#include <torch/cuda.h>
#include <torch/utils.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include "core/error.h"
#include "dist/world_size_check.h"

namespace rave::dist {
namespace {

std::string host_name() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

// OpenBLAS sizes its own thread pool at load time from the core count; with several ranks per machine that
// oversubscribes. Set it through the symbol when the BLAS in use is OpenBLAS (no link-time dependency).
void set_blas_threads(int n) {
  using SetThreads = void (*)(int);
  if (auto fn = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) fn(n);
}

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

// ", Slurm job 123 (SLURM_RESTART_COUNT=1)" under Slurm, else "": a requeued job keeps its id and counts its
// restarts, which tells a resumed run's log from the first one.
std::string slurm_job() {
  const char* job = std::getenv("SLURM_JOB_ID");
  if (!job || !*job) return "";
  const char* restarts = std::getenv("SLURM_RESTART_COUNT");
  return std::string(", Slurm job ") + job + " (SLURM_RESTART_COUNT=" + (restarts && *restarts ? restarts : "0") + ")";
}

}  // namespace

void check_mpi(int code, const char* call, const char* file, int line) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int len = 0;
  MPI_Error_string(code, text, &len);
  int rank = -1, initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  throw DistError(host_name() + " rank " + std::to_string(rank) + ": " + call + " failed at " + file + ":" +
                  std::to_string(line) + ": " + text);
}

torch::Device choose_device(const std::string& spec, int local_rank) {
  if (spec == "cpu") return torch::Device(torch::kCPU);
  const bool cuda = torch::cuda::is_available();
  if (spec == "auto") {
    if (!cuda) return torch::Device(torch::kCPU);
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank % torch::cuda::device_count()));
  }
  if (spec.rfind("cuda", 0) == 0) {
    if (!cuda) throw UsageError("--device " + spec + ": CUDA is not available in this build or on this machine",
                                "use --device cpu (or auto)");
    if (spec == "cuda") {
      return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank % torch::cuda::device_count()));
    }
    try {
      torch::Device device(spec);
      if (device.index() >= static_cast<int>(torch::cuda::device_count())) {
        throw UsageError("--device " + spec + ": this machine has " + std::to_string(torch::cuda::device_count()) +
                         " GPU(s)");
      }
      return device;
    } catch (const c10::Error&) {
      // fall through to the usage error below
    }
  }
  throw UsageError("--device " + spec + ": expected auto, cpu, cuda or cuda:N");
}

int threads_per_rank(int cores, int local_size) { return std::max(1, cores / std::max(1, local_size)); }

Context::Context(int* argc, char*** argv, const ContextOptions& options) : host_(host_name()) {
  const LaunchEnvironment launch = LaunchEnvironment::current();  // before MPI_Init, which may add variables
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    RAVE_MPI_CHECK(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided));
    owns_mpi_ = true;
  }
  // Errors come back as codes (turned into DistError with context) instead of aborting inside MPI.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  RAVE_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
  RAVE_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &world_size_));
  try {
    check_world_size(launch, world_size_);
  } catch (const UsageError&) {
    if (owns_mpi_) MPI_Finalize();  // the destructor does not run for a constructor that throws
    throw;
  }

  MPI_Comm local = MPI_COMM_NULL;
  RAVE_MPI_CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local));
  RAVE_MPI_CHECK(MPI_Comm_rank(local, &local_rank_));
  RAVE_MPI_CHECK(MPI_Comm_size(local, &local_size_));
  MPI_Comm_free(&local);

  // The launcher's idea of the local rank should agree with MPI's; a mismatch usually means a wrong
  // binding/launch configuration and is worth a warning, not a failure.
  for (const char* var : {"OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID"}) {
    const int launcher = env_int(var, -1);
    if (launcher >= 0 && launcher != local_rank_) {
      spdlog::warn("{}: {}={} but MPI_COMM_TYPE_SHARED gives local rank {}", host_, var, launcher, local_rank_);
    }
  }

  device_ = choose_device(options.device, local_rank_);
  // CUDA work that names no device (NCCL's start-up, the caching allocator, kernels of libraries) goes to the
  // current device, which would otherwise be GPU 0 on every rank of the machine.
  if (device_.is_cuda()) c10::impl::getDeviceGuardImpl(device_.type())->setDevice(device_);
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  threads_ = options.threads > 0 ? options.threads : threads_per_rank(cores, local_size_);
  torch::set_num_threads(threads_);
  set_blas_threads(threads_);
}

Context::~Context() {
  if (owns_mpi_) {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
  }
}

std::string Context::describe() const {
  return "host " + host_ + ", rank " + std::to_string(rank_) + "/" + std::to_string(world_size_) + ", local rank " +
         std::to_string(local_rank_) + "/" + std::to_string(local_size_) + ", device " + device_.str() + ", " +
         std::to_string(threads_) + " intra-op thread(s)" + slurm_job();
}

void Context::abort(int exit_code) const {
  spdlog::default_logger()->flush();
  MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::_Exit(exit_code);  // MPI_Abort does not return; this keeps [[noreturn]] honest if it ever did.
}

}  // namespace rave::dist
