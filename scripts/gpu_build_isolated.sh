#!/usr/bin/env bash
# Checks on this Debian machine what scripts/gpu_build.sh will do on the GPU machine, where none of our Debian
# packages are installed: runs it in a private mount namespace in which every file of those packages is hidden (each
# reads as an error), so that nothing can come from the system by accident, then checks that the libraries rave loads
# come from the bundle, the torch installation, CUDA or glibc/libstdc++, and runs rave --version, `rave synth` and
# `rave residual` with the photometric encoder, world size 1 without mpirun (an MPI singleton).
#   scripts/gpu_build_isolated.sh BUNDLE_DIR BUILD_DIR     as root; PYTHON names the python of a CUDA torch
# Hidden: the packages of BUNDLE_DIR/CONTENTS plus Debian's LibTorch, OpenCV imgcodecs and HDF5 wrappers, except the
# libraries the compiler, linker, ccache, cmake, ninja and python themselves load (listed as it starts).
set -euo pipefail
cd "$(dirname "$0")/.."

[ $# -eq 2 ] || { echo "usage: scripts/gpu_build_isolated.sh BUNDLE_DIR BUILD_DIR" >&2; exit 2; }
bundle=$1
build_dir=$2
[ "$(id -u)" = 0 ] || { echo "gpu_build_isolated: needs root (a mount namespace)" >&2; exit 2; }
[ -n "${RAVE_ISOLATED:-}" ] || exec env RAVE_ISOLATED=1 unshare --mount --propagation private "$0" "$@"

# ---- hide ----
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python=${PYTHON:-python3}
{
  sed -n '/^## Debian packages/,/^##/p' "$bundle/CONTENTS" | grep -v '^#' | cut -d' ' -f1
  printf '%s\n' libtorch-dev libtorch1.13 libopencv-imgcodecs-dev libopencv-imgcodecs406 hdf5-helpers
} | sort -u | while read -r package; do
  if dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed"; then dpkg -L "$package"; fi
done | while read -r path; do
  if [ -f "$path" ] && [ ! -L "$path" ]; then readlink -f "$path"; fi
done | sort -u > "$work/owned"
# What the tools of the build load stays: the compiler's and linker's programs, ccache, ninja, cmake, and the
# libraries python maps to import torch (gpu_build.sh asks it for its folder).
tools=("$(c++ -print-prog-name=cc1plus)" "$(c++ -print-prog-name=cc1)" "$(c++ -print-prog-name=collect2)"
       "$(readlink -f "$(command -v ld)")" "$(readlink -f "$(command -v as)")")
for tool in ccache ninja; do
  if command -v "$tool" >/dev/null; then tools+=("$(readlink -f "$(command -v "$tool")")"); fi
done
# PyPI's cmake is a python script in front of the program.
# shellcheck disable=SC2016  # CMake's syntax, literally
echo 'message("${CMAKE_COMMAND}")' > "$work/cmake-command.cmake"
tools+=("$(cmake -P "$work/cmake-command.cmake" 2>&1)")
{
  for tool in "${tools[@]}"; do ldd "$tool" 2>/dev/null || true; done | awk '$2 == "=>" && $3 ~ /^\// {print $3}'
  "$python" -c 'import torch; print(open("/proc/self/maps").read())' | awk '$6 ~ /\.so/ {print $6}'
} | xargs -r readlink -f | sort -u > "$work/tool-libs"
comm -12 "$work/owned" "$work/tool-libs" > "$work/kept"
comm -23 "$work/owned" "$work/tool-libs" > "$work/hidden"
echo "gpu_build_isolated: hiding $(wc -l < "$work/hidden") files;" \
     "kept for the tools: $(xargs -r -n1 basename < "$work/kept" | paste -sd' ')"
# Whole folders where every file in them is hidden (Boost's and LibTorch's headers are tens of thousands), single
# files elsewhere: headers and CMake files read as an error, libraries and programs fail to load.
echo '#error hidden by gpu_build_isolated.sh' > "$work/hidden.h"
# shellcheck disable=SC2016
echo 'message(FATAL_ERROR "hidden by gpu_build_isolated.sh: ${CMAKE_CURRENT_LIST_FILE}")' > "$work/hidden.cmake"
cp "$work/hidden.h" "$work/hidden.other"
lib=/usr/lib/x86_64-linux-gnu
for folder in /usr/include/*/ "$lib"/*/ "$lib"/cmake/*/ /usr/share/*/ /etc/openmpi/; do
  folder=$(readlink -f "$folder")
  find "$folder" -type f 2>/dev/null | sort > "$work/in-folder"
  if [ -s "$work/in-folder" ] && [ -z "$(comm -23 "$work/in-folder" "$work/hidden")" ]; then
    mount -t tmpfs none "$folder"
    comm -23 "$work/hidden" "$work/in-folder" > "$work/rest" && mv "$work/rest" "$work/hidden"
  fi
done
while read -r file; do
  case "$file" in
    *.cmake) mount --bind "$work/hidden.cmake" "$file" ;;
    *.h | *.hpp | *.hh | *.hxx | *.inl | *.ipp) mount --bind "$work/hidden.h" "$file" ;;
    *) mount --bind "$work/hidden.other" "$file" ;;
  esac
done < "$work/hidden"

# ---- build ----
scripts/gpu_build.sh "$bundle" "$build_dir"

# ---- where rave's libraries come from ----
# shellcheck source=/dev/null
. "$build_dir/deps/env.sh"
torch_site=$(dirname "$("$python" -c 'import os, torch; print(os.path.dirname(torch.__file__))')")
cuda_root=$(dirname "$(dirname "$(readlink -f "$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)")")")
base='/(libc|libm|libdl|libpthread|librt|libresolv|libutil|ld-linux-x86-64|libgcc_s|libstdc\+\+)\.so'
ldd "$build_dir/rave" | tee "$work/ldd" | awk '$2 == "=>" {print $1, $3}' | while read -r name path; do
  real=$(readlink -f "$path" 2>/dev/null || echo "$path")
  case "$real" in
    "$(readlink -f "$RAVE_BUNDLE_PREFIX")"/*) echo bundle ;;
    "$torch_site"/* | "$(readlink -f "$torch_site")"/*) echo torch ;;
    "$cuda_root"/*) echo cuda ;;
    *) if [[ $real =~ $base ]]; then echo system; else echo "OTHER $name $real" >&2; echo other; fi ;;
  esac
done | sort | uniq -c | tee "$work/origins"
if grep -q other "$work/origins"; then
  echo "gpu_build_isolated: rave loads libraries from outside the bundle" >&2
  exit 1
fi
grep -q "not found" "$work/ldd" && { grep "not found" "$work/ldd" >&2; exit 1; }

# ---- run ----
"$build_dir/rave" --version
scratch=$(mktemp -d)
"$build_dir/rave" synth --out "$scratch/synth" --count 6 --size 64
"$build_dir/rave" residual --backlit "$scratch/synth/train/backlit" --welllit "$scratch/synth/train/welllit" \
  --clip photometric --out "$scratch/residual.h5"
rm -rf "$scratch"
echo "gpu_build_isolated: $build_dir/rave built and ran with the Debian packages hidden"
