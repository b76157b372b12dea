#include "core/openmp_wait_policy.h"

#include <unistd.h>

#include <cstdlib>

namespace rave::core {

void prefer_passive_openmp_waits(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  execv("/proc/self/exe", argv);  // returns only on failure
}

}  // namespace rave::core
