#include "core/process_memory.h"

#ifdef RAVE_TORCH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include <fstream>
#include <string>

namespace rave::core {
namespace {

// One "Name:   1234 kB" line of /proc/self/status, in MiB; 0 when it cannot be read (not Linux).
double status_mib(const std::string& name) {
  std::ifstream status("/proc/self/status");
  std::string key;
  double kib = 0;
  while (status >> key) {
    if (key == name + ":") {
      status >> kib;
      return kib / 1024.0;
    }
    status.ignore(4096, '\n');
  }
  return 0;
}

}  // namespace

double peak_resident_mib() { return status_mib("VmHWM"); }

bool reset_peak_resident() {
  std::ofstream clear_refs("/proc/self/clear_refs");
  clear_refs << "5";
  clear_refs.flush();
  return bool(clear_refs);
}

#ifdef RAVE_TORCH_CUDA
double device_peak_mib(int index) {
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(c10::DeviceIndex(index));
  const auto aggregate = static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE);
  return double(stats.reserved_bytes[aggregate].peak) / (1024.0 * 1024.0);
}

void reset_device_peak(int index) { c10::cuda::CUDACachingAllocator::resetPeakStats(c10::DeviceIndex(index)); }
#else
double device_peak_mib(int) { return 0; }

void reset_device_peak(int) {}
#endif

}  // namespace rave::core
