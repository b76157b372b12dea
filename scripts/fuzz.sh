#!/usr/bin/env bash
# Builds the fuzz targets of tests/fuzz (clang, AddressSanitizer and UndefinedBehaviorSanitizer) in a tree of their
# own and runs each for FUZZ_SECONDS as the CTest fuzz.<target>; arguments go to ctest. scripts/test.sh runs it
# after the LibTorch trees; the packages it needs come from scripts/packages.txt (scripts/setup.sh --no-build).
#   scripts/fuzz.sh                                      30 s per target, as CI
#   FUZZ_SECONDS=3600 scripts/fuzz.sh -R fuzz.pickle     an hour on one target
# Environment: FUZZ_DIR (default build-fuzz), FUZZ_SECONDS (default 30), JOBS (default: all cores).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ccache_env.sh
dir=${FUZZ_DIR:-build-fuzz}
jobs=${JOBS:-$(nproc)}
cmake -S . -B "$dir" -DRAVE_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRAVE_FUZZ_SECONDS="${FUZZ_SECONDS:-30}"
cmake --build "$dir" -j "$jobs"
cd "$dir"
ctest --output-on-failure -j "$jobs" "$@"
