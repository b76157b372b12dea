#include "dist/routing_communicator.h"

#include <cstdlib>

#include "core/error.h"

namespace rave::dist {

RoutingCommunicator::RoutingCommunicator(std::unique_ptr<Communicator> device, std::unique_ptr<Communicator> host)
    : device_(std::move(device)), host_(std::move(host)) {
  if (device_->world_size() != host_->world_size() || device_->rank() != host_->rank()) {
    throw DistError(std::string("the ") + device_->backend() + " and " + host_->backend() +
                    " communicators disagree on rank or world size");
  }
}

void RoutingCommunicator::all_reduce_sum(const torch::Tensor& tensor) { route(tensor).all_reduce_sum(tensor); }

void RoutingCommunicator::broadcast(const torch::Tensor& tensor, int root) { route(tensor).broadcast(tensor, root); }

void RoutingCommunicator::barrier() {
  device_->barrier();
  host_->barrier();
}

void RoutingCommunicator::abort(const std::string& message) {
  device_->abort(message);
  std::_Exit(1);  // not reached (abort ends the job); a virtual call is not known to the compiler as noreturn
}

}  // namespace rave::dist
