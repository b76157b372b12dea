// This process's resident memory, as Linux accounts it (/proc/self/status), and a GPU's peak, for the peak-memory figures that
// `rave train` logs at its end, `rave train --dry-run` estimates and `rave enhance` reports.
#pragma once

namespace rave::core {

// VmHWM: the most that was resident at once since the start (or since reset_peak_resident), in MiB.
double peak_resident_mib();
// Starts a new VmHWM measurement from what is resident now (writes 5 to /proc/self/clear_refs). False where
// the kernel does not allow it; the peak then keeps counting from the start of the process.
bool reset_peak_resident();

// The CUDA caching allocator's peak of memory reserved on device `index` since the start or the last reset,
// in MiB (0 in a build without CUDA), and its reset.
double device_peak_mib(int index);
void reset_device_peak(int index);

}  // namespace rave::core
