#include "dist/nccl_communicator.h"

#include <mpi.h>
#include <spdlog/spdlog.h>

#include <optional>

#ifdef RAVE_TORCH_CUDA
#include <c10/cuda/CUDAStream.h>
#endif

#include "core/error.h"

namespace rave::dist {
namespace {

// nccl-tests style: host, rank, the call, file:line and the library's own words.
void check_cuda(cudaError_t code, const std::string& where, const char* call, const char* file, int line) {
  if (code == cudaSuccess) return;
  throw DistError(where + ": " + call + " failed at " + file + ":" + std::to_string(line) + ": CUDA error " +
                  cudaGetErrorName(code) + ": " + cudaGetErrorString(code));
}

void check_nccl(ncclResult_t code, ncclComm_t comm, const std::string& where, const char* call, const char* file,
                int line) {
  if (code == ncclSuccess) return;
  std::string detail = ncclGetLastError(comm);
  throw DistError(where + ": " + call + " failed at " + file + ":" + std::to_string(line) + ": NCCL error " +
                      std::to_string(int(code)) + ": " + ncclGetErrorString(code) + (detail.empty() ? "" : " (" + detail + ")"),
                  "NCCL_DEBUG=WARN (or INFO) in the environment makes NCCL say more");
}

#define RAVE_CUDA_CHECK(call) check_cuda((call), where_, #call, __FILE__, __LINE__)
#define RAVE_NCCL_CHECK(call) check_nccl((call), comm_, where_, #call, __FILE__, __LINE__)

ncclDataType_t nccl_type(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kFloat32: return ncclFloat32;
    case torch::kFloat64: return ncclFloat64;
    default: return ncclInt64;  // check_collective_tensor admits nothing else
  }
}

}  // namespace

NcclCommunicator::NcclCommunicator(const Context& context, double collective_timeout_seconds)
    : context_(context), where_(describe_process(context)), device_(context.device().index()) {
  if (!context.device().is_cuda()) {
    throw DistError(where_ + ": the NCCL communicator needs a CUDA device, this rank has " + context.device().str());
  }
  RAVE_CUDA_CHECK(cudaSetDevice(device_));
  {
    // Start-up is itself a collective: a rank that never arrives would leave the others waiting here.
    std::unique_ptr<Watchdog> startup;
    if (collective_timeout_seconds > 0) {
      startup = std::make_unique<Watchdog>(collective_timeout_seconds, where_, abort_job(context));
    }
    std::optional<Watchdog::Scope> watched;
    if (startup) watched.emplace(startup->enter("NCCL start-up (unique id broadcast, ncclCommInitRank)"));
    ncclUniqueId id{};
    if (context.is_root()) RAVE_NCCL_CHECK(ncclGetUniqueId(&id));
    RAVE_MPI_CHECK(MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, MPI_COMM_WORLD));
    RAVE_NCCL_CHECK(ncclCommInitRank(&comm_, context.world_size(), id, context.rank()));
  }
  RAVE_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  RAVE_CUDA_CHECK(cudaEventCreateWithFlags(&inputs_ready_, cudaEventDisableTiming));
  RAVE_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&barrier_word_), sizeof(float)));
  // Always on, also without a timeout: it is what notices NCCL's asynchronous errors (a lost peer, a network
  // failure) and aborts the communicator, which releases kernels waiting for the peer.
  watchdog_ = std::make_unique<Watchdog>(collective_timeout_seconds, where_,
                                         abort_job(context, [comm = comm_] { ncclCommAbort(comm); }));
  spdlog::debug("{}: NCCL {} communicator on cuda:{}", where_, NCCL_VERSION_CODE, device_);
}

NcclCommunicator::~NcclCommunicator() {
  // Collectives still queued must finish before their communicator, stream and buffers go. Errors cannot
  // be reported from a destructor; the watchdog has reported any that happened while it ran.
  cudaStreamSynchronize(stream_);
  watchdog_.reset();
  ncclCommDestroy(comm_);
  cudaFree(barrier_word_);
  cudaEventDestroy(inputs_ready_);
  cudaStreamDestroy(stream_);
}

cudaStream_t NcclCommunicator::compute_stream() const {
#ifdef RAVE_TORCH_CUDA
  return c10::cuda::getCurrentCUDAStream(static_cast<c10::DeviceIndex>(device_)).stream();
#else
  // A LibTorch without CUDA has no stream of its own; CUDA work of this process runs on the legacy default one.
  return cudaStreamLegacy;
#endif
}

void NcclCommunicator::check_tensor(const torch::Tensor& tensor, const std::string& operation) const {
  check_collective_tensor(tensor, operation, where_);
  if (!tensor.is_cuda() || tensor.get_device() != device_) {
    throw DistError(where_ + ": " + operation + ": the NCCL communicator works on cuda:" + std::to_string(device_) +
                        " tensors, got one on " + tensor.device().str(),
                    "make_communicator() routes host tensors to MPI; a tensor on another GPU must be moved to this rank's");
  }
}

template <typename Enqueue>
void NcclCommunicator::collective(const std::string& what, Enqueue enqueue) {
  RAVE_CUDA_CHECK(cudaSetDevice(device_));
  const cudaStream_t compute = compute_stream();
  // The collective must see everything queued so far on the compute stream (the gradients it sums) ...
  RAVE_CUDA_CHECK(cudaEventRecord(inputs_ready_, compute));
  RAVE_CUDA_CHECK(cudaStreamWaitEvent(stream_, inputs_ready_, 0));
  RAVE_NCCL_CHECK(enqueue(stream_));
  // ... and everything queued on it later must see the result. The memory needs no further protection: it
  // can only be reused by work ordered after this event.
  cudaEvent_t raw = nullptr;
  RAVE_CUDA_CHECK(cudaEventCreateWithFlags(&raw, cudaEventDisableTiming));
  std::shared_ptr<CUevent_st> done(raw, [](cudaEvent_t event) { cudaEventDestroy(event); });
  RAVE_CUDA_CHECK(cudaEventRecord(done.get(), stream_));
  RAVE_CUDA_CHECK(cudaStreamWaitEvent(compute, done.get(), 0));
  watchdog_->track(what, [this, done] {
    // Runs on the watchdog's thread, whose current device is not necessarily ours.
    RAVE_CUDA_CHECK(cudaSetDevice(device_));
    ncclResult_t async = ncclSuccess;
    RAVE_NCCL_CHECK(ncclCommGetAsyncError(comm_, &async));
    RAVE_NCCL_CHECK(async);
    const cudaError_t state = cudaEventQuery(done.get());
    if (state == cudaErrorNotReady) return false;
    RAVE_CUDA_CHECK(state);
    return true;
  });
}

void NcclCommunicator::all_reduce_sum(const torch::Tensor& tensor) {
  check_tensor(tensor, "ncclAllReduce");
  collective("ncclAllReduce of " + describe_elements(tensor),
             [&](cudaStream_t stream) {
               return ncclAllReduce(tensor.data_ptr(), tensor.data_ptr(), static_cast<size_t>(tensor.numel()),
                                    nccl_type(tensor.scalar_type()), ncclSum, comm_, stream);
             });
}

void NcclCommunicator::broadcast(const torch::Tensor& tensor, int root) {
  check_tensor(tensor, "ncclBroadcast");
  check_root(root, world_size(), where_);
  collective("ncclBroadcast of " + describe_elements(tensor) + " from rank " + std::to_string(root),
             [&](cudaStream_t stream) {
               return ncclBroadcast(tensor.data_ptr(), tensor.data_ptr(), static_cast<size_t>(tensor.numel()),
                                    nccl_type(tensor.scalar_type()), root, comm_, stream);
             });
}

void NcclCommunicator::barrier() {
  collective("barrier (ncclAllReduce of one float)", [&](cudaStream_t stream) {
    return ncclAllReduce(barrier_word_, barrier_word_, 1, ncclFloat32, ncclSum, comm_, stream);
  });
  // A stalled peer keeps this waiting until the watchdog's timeout ends the job.
  RAVE_CUDA_CHECK(cudaStreamSynchronize(stream_));
}

void NcclCommunicator::abort(const std::string& message) {
  spdlog::error("{}: {}", where_, message);
  ncclCommAbort(comm_);
  context_.abort(1);
}

}  // namespace rave::dist
