#!/usr/bin/env bash
# Runs one libFuzzer target as a CTest (tests/fuzz/CMakeLists.txt): every input of its seed corpus first (the
# regression inputs of fixed crashes among them), then mutations for SECONDS. New inputs go to WORK_DIR/corpus, never
# into the source tree; an input that crashes is saved as WORK_DIR/crash-<sha1> and named in the log. The exit code
# is libFuzzer's: non-zero on a crash, a sanitizer report, a leak, an input slower than 20 s or one that needs more
# than 2 GiB. SECONDS 0 replays the seed corpus only.
#   run_fuzzer.sh FUZZER SEED_DIR WORK_DIR SECONDS
set -euo pipefail
fuzzer=$1 seeds=$2 work=$3 seconds=$4
rm -rf "$work"
mkdir -p "$work/corpus"
duration=(-max_total_time="$seconds")
[ "$seconds" -gt 0 ] || duration=(-runs=0)
# An allocation larger than the machine (libhdf5 sizes buffers from a file's fields) returns null, as malloc does
# outside the sanitizer, instead of ending the run: the reader must then fail with an error, which is what is tested.
# Leaks inside libhdf5 on those error paths are its own (lsan.supp).
export ASAN_OPTIONS=${ASAN_OPTIONS:-allocator_may_return_null=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(dirname "$0")/lsan.supp}
# A decoder may reserve the pixels a header declares (up to 2^30 pixels of 16-bit RGB, 6 GiB) before it finds the
# data missing: only the memory actually used counts against the limit, not the size of one reservation.
exec "$fuzzer" "${duration[@]}" -timeout=20 -rss_limit_mb=2048 -malloc_limit_mb=8192 \
  -print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" "$seeds"
