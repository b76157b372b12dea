#!/usr/bin/env bash
# Builds rave on a machine without our Debian packages (the lent GPU machine): LibTorch from python3's torch (a venv
# there), nvcc, and every Debian library from a bundle of scripts/gpu_bundle.sh, with image files through libpng and
# libjpeg (-DRAVE_OPENCV_IMGCODECS=OFF). CMake's searches are rooted in the bundle, the torch installation and the
# CUDA toolkit (CMAKE_FIND_ROOT_PATH, mode ONLY), so a library or header the bundle lacks fails the configure instead
# of being taken from the system.
#   scripts/gpu_build.sh BUNDLE_DIR BUILD_DIR [--tests]
#     BUNDLE_DIR  the bundle's folder (what travels); its deps.tar.gz is unpacked into BUILD_DIR/deps
#     --tests     build the GoogleTest suites too (default: only the rave target)
# Environment: PYTHON (default python3; its torch), CUDA_ARCH (default 90, the H200), JOBS (default: all cores),
#              BUILD_TYPE (default Release), CMAKE_ARGS (extra configure arguments).
# Running what it built: . BUILD_DIR/deps/env.sh; BUILD_DIR/rave --version
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: scripts/gpu_build.sh BUNDLE_DIR BUILD_DIR [--tests]" >&2; exit 2; }
[ $# -ge 2 ] || usage
bundle=$1
build_dir=$2
tests=OFF
case "${3:-}" in
  --tests) tests=ON ;;
  "") ;;
  *) usage ;;
esac

archive=$bundle/deps.tar.gz
[ -f "$archive" ] || { echo "gpu_build: no bundle at $bundle; make one with scripts/gpu_bundle.sh" >&2; exit 2; }
deps=$build_dir/deps
# Unpacked once per bundle: a newer archive replaces what an older one left.
if [ ! -f "$deps/env.sh" ] || [ "$archive" -nt "$deps/env.sh" ]; then
  rm -rf "$deps"
  mkdir -p "$deps"
  tar -C "$deps" -xzf "$archive"
  touch "$deps/env.sh"
fi
# shellcheck source=/dev/null
. "$deps/env.sh"

# The carried libraries need these symbol versions (gpu_bundle.sh measured them); fail here, not at the first run.
glibc=$(getconf GNU_LIBC_VERSION | awk '{print $2}')
if [ "$(printf '%s\n' "$RAVE_BUNDLE_GLIBC" "$glibc" | sort -V | head -1)" != "$RAVE_BUNDLE_GLIBC" ]; then
  echo "gpu_build: this machine has glibc $glibc; the bundle's libraries need $RAVE_BUNDLE_GLIBC" >&2
  exit 1
fi
libstdcxx=$("${CXX:-c++}" -print-file-name=libstdc++.so.6)
if ! grep -aq "GLIBCXX_$RAVE_BUNDLE_GLIBCXX" "$libstdcxx"; then
  echo "gpu_build: $libstdcxx lacks GLIBCXX_$RAVE_BUNDLE_GLIBCXX, which the bundle's libraries need" \
       "(GCC 12 or newer)" >&2
  exit 1
fi

python=${PYTHON:-python3}
torch_dir=$("$python" -c 'import os, torch; print(os.path.dirname(torch.__file__))') ||
  { echo "gpu_build: $python cannot import torch; name the python of a CUDA torch in PYTHON" >&2; exit 1; }
# Debian's C++ libraries use the C++11 ABI; the LibTorch must too.
if [ "$("$python" -c 'import torch; print(torch.compiled_with_cxx11_abi())')" != True ]; then
  echo "gpu_build: the torch of $python was built with the pre-C++11 ABI; rave links Debian's C++ libraries" >&2
  exit 1
fi
site=$(dirname "$torch_dir")  # the wheel's NCCL and CUDA libraries lie beside torch (nvidia/...)
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
[ -x "$nvcc" ] || { echo "gpu_build: no nvcc on PATH or in /usr/local/cuda" >&2; exit 1; }
cuda_root=$(dirname "$(dirname "$(readlink -f "$nvcc")")")
bundle_root=$(dirname "$RAVE_BUNDLE_PREFIX")
triplet=x86_64-linux-gnu
arch=${CUDA_ARCH:-90}
generator=()
if command -v ninja >/dev/null; then generator=(-G Ninja); fi

# rave compiles no CUDA code; LibTorch's CMake files take the architectures from here (CMAKE_CUDA_ARCHITECTURES they
# ignore) and would otherwise probe the GPU.
export TORCH_CUDA_ARCH_LIST="${arch:0:-1}.${arch: -1}"
# Debian keeps a few headers (OpenSSL's configuration, jconfig.h) in the multiarch folder the compiler searches on
# Debian; the bundle's is named as a standard include folder. Open MPI through its relocated wrapper, HDF5 through
# the root folder Debian lays out for it (include/ and lib/ inside).
# shellcheck disable=SC2086
cmake -S . -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" \
  -DCMAKE_PREFIX_PATH="$RAVE_BUNDLE_PREFIX;$torch_dir" \
  -DCMAKE_FIND_ROOT_PATH="$bundle_root;$site;$cuda_root" \
  -DCMAKE_FIND_ROOT_PATH_MODE_LIBRARY=ONLY -DCMAKE_FIND_ROOT_PATH_MODE_INCLUDE=ONLY \
  -DCMAKE_FIND_ROOT_PATH_MODE_PACKAGE=ONLY \
  -DCMAKE_C_STANDARD_INCLUDE_DIRECTORIES="$RAVE_BUNDLE_PREFIX/include/$triplet" \
  -DCMAKE_CXX_STANDARD_INCLUDE_DIRECTORIES="$RAVE_BUNDLE_PREFIX/include/$triplet" \
  -DMPI_CXX_COMPILER="$RAVE_BUNDLE_PREFIX/bin/mpicxx" -DMPIEXEC_EXECUTABLE="$RAVE_BUNDLE_PREFIX/bin/mpiexec" \
  -DHDF5_ROOT="$RAVE_BUNDLE_PREFIX/lib/$triplet/hdf5/serial" \
  -DRAVE_WITH_NCCL=ON -DRAVE_OPENCV_IMGCODECS=OFF -DRAVE_BUILD_TESTS="$tests" \
  ${CMAKE_ARGS:-}
targets=(--target rave)
[ "$tests" = OFF ] || targets=()
cmake --build "$build_dir" -j "${JOBS:-$(nproc)}" "${targets[@]}"
echo "gpu_build: built $build_dir/rave ($("$build_dir"/rave --version))"
