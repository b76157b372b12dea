#!/usr/bin/env bash
# The test command: installs what is missing and builds (scripts/setup.sh), then runs every CTest suite
# (unit, MPI under mpirun -np 2 and 3, integration) and exits non-zero on any failure.
#   scripts/test.sh [ctest arguments...]     e.g. scripts/test.sh -L unit
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
scripts/setup.sh
build_dir=${BUILD_DIR:-build}
# Tests run with one intra-op thread per rank: several test programs run side by side on small machines.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cd "$build_dir"
status=0
ctest --output-on-failure -j "${JOBS:-$(nproc)}" "$@" || status=$?
echo "test.sh: finished in $(( $(date +%s) - start ))s"
exit $status
