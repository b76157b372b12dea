#include "dist/communicator.h"

#include "core/error.h"
#include "dist/mpi_communicator.h"
#ifdef RAVE_HAVE_NCCL
#include "dist/nccl_communicator.h"
#include "dist/routing_communicator.h"
#endif

namespace rave::dist {

bool nccl_compiled() {
#ifdef RAVE_HAVE_NCCL
  return true;
#else
  return false;
#endif
}

std::string describe_process(const Context& context) {
  return "host " + context.host() + " rank " + std::to_string(context.rank());
}

void check_collective_tensor(const torch::Tensor& tensor, const std::string& operation, const std::string& where) {
  const std::string prefix = where + ": " + operation + ": ";
  if (!tensor.defined()) throw DistError(prefix + "undefined tensor");
  const auto dtype = tensor.scalar_type();
  if (dtype != torch::kFloat32 && dtype != torch::kFloat64 && dtype != torch::kInt64) {
    throw DistError(prefix + "unsupported dtype " + std::string(c10::toString(dtype)),
                    "collectives take float32, float64 or int64 tensors; convert first");
  }
  if (!tensor.is_contiguous()) {
    throw DistError(prefix + "tensor of shape " + c10::str(tensor.sizes()) + " is not contiguous",
                    "collectives work in place on contiguous memory; pass tensor.contiguous() and copy back");
  }
}

void check_root(int root, int world_size, const std::string& where) {
  if (root < 0 || root >= world_size) {
    throw DistError(where + ": broadcast from rank " + std::to_string(root) + " in a world of " +
                    std::to_string(world_size) + " ranks");
  }
}

std::string describe_elements(const torch::Tensor& tensor) {
  const auto dtype = tensor.scalar_type();
  const std::string name = dtype == torch::kFloat32   ? "float32"
                           : dtype == torch::kFloat64 ? "float64"
                           : dtype == torch::kInt64   ? "int64"
                                                      : c10::toString(dtype);
  return std::to_string(tensor.numel()) + " " + name + " elements";
}

std::unique_ptr<Communicator> make_communicator(const Context& context, const std::string& backend,
                                                double collective_timeout_seconds) {
  if (backend != "auto" && backend != "mpi" && backend != "nccl") {
    throw UsageError("--backend " + backend + ": expected auto, mpi or nccl");
  }
  const bool cuda = context.device().is_cuda();
  if (backend == "nccl") {
    if (!nccl_compiled()) {
      throw UsageError("--backend nccl: this rave was built without NCCL (CMake found no CUDA toolkit with NCCL)",
                       "use --backend mpi, or rebuild with NCCL_HOME set (cmake -DRAVE_WITH_NCCL=ON)");
    }
    if (!cuda) {
      throw UsageError("--backend nccl: NCCL communicates CUDA tensors, but this rank computes on " +
                           context.device().str() +
                           " (LibTorch without CUDA, no GPU, or --device cpu)",
                       "use --backend mpi or auto, or run on GPUs with a CUDA build of LibTorch");
    }
  }
#ifdef RAVE_HAVE_NCCL
  if (cuda && backend != "mpi") {
    return std::make_unique<RoutingCommunicator>(
        std::make_unique<NcclCommunicator>(context, collective_timeout_seconds),
        std::make_unique<MpiCommunicator>(context, collective_timeout_seconds));
  }
#endif
  return std::make_unique<MpiCommunicator>(context, collective_timeout_seconds);
}

}  // namespace rave::dist
