#include "dist/mpi_communicator.h"

#include <mpi.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <climits>
#include <optional>

#include "core/error.h"

namespace rave::dist {
namespace {

MPI_Datatype mpi_type(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kFloat32: return MPI_FLOAT;
    case torch::kFloat64: return MPI_DOUBLE;
    default: return MPI_INT64_T;  // check_collective_tensor admits nothing else
  }
}

}  // namespace

MpiCommunicator::MpiCommunicator(const Context& context, double collective_timeout_seconds)
    : context_(context), where_(describe_process(context)) {
  if (collective_timeout_seconds > 0) {
    watchdog_ = std::make_unique<Watchdog>(collective_timeout_seconds, where_, abort_job(context));
  }
}

template <typename Call>
void MpiCommunicator::collective(const torch::Tensor& tensor, const std::string& name, Call call) {
  check_collective_tensor(tensor, name, where_);
  if (tensor.is_cuda()) {
    // MPI reads host memory; pinned memory makes the two copies direct DMA transfers.
    const auto host = torch::empty(tensor.sizes(), tensor.options().device(torch::kCPU).pinned_memory(true));
    host.copy_(tensor);
    collective(host, name, call);
    tensor.copy_(host);
    return;
  }
  auto* data = static_cast<char*>(tensor.data_ptr());
  const int64_t numel = tensor.numel();
  const auto element_size = static_cast<int64_t>(tensor.element_size());
  std::optional<Watchdog::Scope> watched;
  if (watchdog_) {
    watched.emplace(watchdog_->enter(name + " of " + describe_elements(tensor)));
  }
  for (int64_t offset = 0; offset < numel; offset += INT_MAX) {
    const int count = static_cast<int>(std::min<int64_t>(INT_MAX, numel - offset));
    call(data + offset * element_size, count, mpi_type(tensor.scalar_type()));
  }
}

void MpiCommunicator::all_reduce_sum(const torch::Tensor& tensor) {
  collective(tensor, "MPI_Allreduce", [&](void* data, int count, MPI_Datatype type) {
    RAVE_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, data, count, type, MPI_SUM, MPI_COMM_WORLD));
  });
}

void MpiCommunicator::broadcast(const torch::Tensor& tensor, int root) {
  check_root(root, world_size(), where_);
  collective(tensor, "MPI_Bcast", [&](void* data, int count, MPI_Datatype type) {
    RAVE_MPI_CHECK(MPI_Bcast(data, count, type, root, MPI_COMM_WORLD));
  });
}

void MpiCommunicator::barrier() {
  std::optional<Watchdog::Scope> watched;
  if (watchdog_) watched.emplace(watchdog_->enter("MPI_Barrier"));
  RAVE_MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
}

void MpiCommunicator::abort(const std::string& message) {
  spdlog::error("{}: {}", where_, message);
  context_.abort(1);
}

}  // namespace rave::dist
