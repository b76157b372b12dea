#!/usr/bin/env bash
# Installs every Debian package rave needs (scripts/packages.txt), then configures and builds.
# Idempotent and non-interactive; run as root (or with sudo available) on a fresh Debian 12 machine.
#   scripts/setup.sh            install + build against Debian's LibTorch 1.13 (CPU) into build/
#   TORCH=pip scripts/setup.sh  install + build against PyPI's torch 2.11.0 (CUDA 13 LibTorch, NCCL on) into
#                               build-pip/; the wheel goes into the venv .torch-pip/ of this checkout
#   scripts/setup.sh --no-build install only
# Environment: TORCH (debian or pip), BUILD_DIR (default build or build-pip), BUILD_TYPE (default Release),
#              JOBS (default: all cores), BUILD_TARGET (default: every target; rave builds only the executable),
#              CMAKE_ARGS (extra configure arguments,
#              e.g. -DCMAKE_PREFIX_PATH=/opt/libtorch for another LibTorch), TORCH_VENV (default .torch-pip).
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
[ "${1:-}" = "--no-build" ] && build=0

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

mapfile -t packages < <(grep -Ev '^\s*(#|$)' scripts/packages.txt)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${#missing[@]} Debian package(s): ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: all ${#packages[@]} Debian packages present"
fi

torch=${TORCH:-debian}
configure_args=()
case "$torch" in
  debian) build_dir=${BUILD_DIR:-build} ;;
  pip)
    build_dir=${BUILD_DIR:-build-pip}
    venv=${TORCH_VENV:-.torch-pip}
    # The pinned wheel (torch 2.11.0+cu130 on PyPI: LibTorch's headers, share/cmake/Torch, libtorch_cuda.so, and
    # through its dependencies the CUDA 13 runtime, cuDNN and nvidia-nccl-cu13), plus what bench/ needs to run
    # the PyTorch side of the comparisons with it.
    wanted='import torch, numpy, h5py, PIL; assert torch.__version__.startswith("2.11.0")'
    if ! "$venv/bin/python" -c "$wanted" 2>/dev/null; then
      echo "setup: installing torch 2.11.0 from PyPI into $venv (about 4.6 GB with its CUDA libraries)"
      python3 -m venv "$venv"
      "$venv/bin/pip" install -q --disable-pip-version-check torch==2.11.0 numpy h5py pillow
    fi
    torch_dir=$("$venv/bin/python" -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null)
    # Debian's C++ libraries (Boost, spdlog, HDF5's C++ API) use the C++11 ABI; the LibTorch must too.
    if [ "$("$venv/bin/python" -c 'import torch; print(torch.compiled_with_cxx11_abi())' 2>/dev/null)" != True ]; then
      echo "setup: the torch in $venv was built with the pre-C++11 ABI; rave links Debian's C++ libraries" >&2
      exit 1
    fi
    # The torch folder itself, not its share/cmake: TorchConfig then finds libc10 there too (cmake/TorchSetup).
    configure_args=(-DCMAKE_PREFIX_PATH="$torch_dir" -DRAVE_WITH_NCCL=ON)
    ;;
  *) echo "setup: TORCH=$torch: expected debian or pip" >&2; exit 2 ;;
esac

[ "$build" -eq 1 ] || exit 0

jobs=${JOBS:-$(nproc)}
source scripts/ccache_env.sh
# shellcheck disable=SC2086
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" "${configure_args[@]}" ${CMAKE_ARGS:-}
cmake --build "$build_dir" -j "$jobs" ${BUILD_TARGET:+--target "$BUILD_TARGET"}
echo "setup: built $build_dir/rave ($("$build_dir"/rave --version))"
