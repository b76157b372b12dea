#!/usr/bin/env bash
# All-reduce bandwidth and gradient-sync share of a training step on RANKS (default 2) ranks (bench/allreduce.cpp).
# Usage: bench/allreduce.sh [BUILD_DIR] [rave bench allreduce flags...]   e.g. bench/allreduce.sh build --image-size 256
set -euo pipefail
build=${1:-build}
shift || true
# The flags the MPI tests use (tests/CMakeLists.txt, RAVE_MPIRUN_FLAGS): root in containers, more ranks than
# cores, no single-copy mechanism that needs ptrace rights.
exec mpirun --allow-run-as-root --oversubscribe --mca btl_vader_single_copy_mechanism none -np "${RANKS:-2}" \
  "$build/rave" bench allreduce "$@"
