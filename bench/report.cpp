#include "bench/report.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <cstdio>
#include <cstdlib>

namespace rave::bench {

int report(const launch::Invocation& invocation, nlohmann::ordered_json result) {
  const dist::Context& context = *invocation.context;
  const char* wait_policy = std::getenv("OMP_WAIT_POLICY");
  result["libtorch"] = TORCH_VERSION;
  result["device"] = context.device().str();
  result["ranks"] = context.world_size();
  result["threads"] = torch::get_num_threads();
  result["omp_wait_policy"] = wait_policy ? wait_policy : "";
  if (context.is_root()) {
    std::printf("%s\n", result.dump().c_str());
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace rave::bench
