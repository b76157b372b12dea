#!/usr/bin/env bash
# The test command: installs what is missing and builds (scripts/setup.sh), then runs every CTest suite
# (unit, MPI under mpirun -np 2 and 3, integration) and exits non-zero on any failure. Then the same tree is
# built against the CUDA LibTorch of PyPI's torch 2.11.0 (TORCH=pip scripts/setup.sh, build-pip/), so that a
# change which breaks the GPU build fails here, and that build's unit tests and the GPU check's CPU run
# (gpu_check.cpu: scripts/gpu_check.sh at the smallest sizes, with the venv's PyTorch) run on the CPU. Last, the fuzz
# targets (scripts/fuzz.sh: a small clang tree, build-fuzz/) run for 30 s each.
#   scripts/test.sh [ctest arguments...]     e.g. scripts/test.sh -L unit
# Environment: TEST_TORCH (default "debian pip": which LibTorch builds to test), BUILD_DIR (the Debian tree),
#              TEST_FUZZ (default 1; 0 leaves the fuzz targets out).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
# One compile job (setup.sh) and one test per core, counted before OMP_NUM_THREADS is set: GNU nproc obeys it, and
# counted after, the builds and tests ran one at a time.
export JOBS=${JOBS:-$(nproc)}
# Tests run with one intra-op thread per rank: several test programs run side by side on small machines.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
status=0
for torch in ${TEST_TORCH:-debian pip}; do
  case "$torch" in
    debian) build_dir=${BUILD_DIR:-build}; labels=() ;;
    pip) build_dir=build-pip; labels=(-L "unit|gpu_check") ;;
    *) echo "test.sh: TEST_TORCH: unknown LibTorch '$torch' (expected debian and/or pip)" >&2; exit 2 ;;
  esac
  tree_start=$(date +%s)
  TORCH=$torch BUILD_DIR=$build_dir scripts/setup.sh
  (cd "$build_dir" && ctest --output-on-failure -j "$JOBS" "${labels[@]}" "$@") || status=$?
  echo "test.sh: $torch LibTorch tree ($build_dir) built and tested in $(( $(date +%s) - tree_start ))s"
done
if [ "${TEST_FUZZ:-1}" = 1 ]; then
  fuzz_start=$(date +%s)
  scripts/fuzz.sh "$@" || status=$?
  echo "test.sh: fuzz targets (build-fuzz) built and fuzzed in $(( $(date +%s) - fuzz_start ))s"
fi
echo "test.sh: finished in $(( $(date +%s) - start ))s"
exit $status
