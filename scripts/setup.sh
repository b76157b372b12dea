#!/usr/bin/env bash
# Installs every Debian package rave needs (scripts/packages.txt), then configures and builds into build/.
# Idempotent and non-interactive; run as root (or with sudo available) on a fresh Debian 12 machine.
#   scripts/setup.sh            install + build
#   scripts/setup.sh --no-build install only
# Environment: BUILD_DIR (default build), BUILD_TYPE (default Release), JOBS (default: all cores),
#              CMAKE_ARGS (extra configure arguments, e.g. -DCMAKE_PREFIX_PATH=/opt/libtorch).
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

[ "$build" -eq 1 ] || exit 0

build_dir=${BUILD_DIR:-build}
jobs=${JOBS:-$(nproc)}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
# Paths relative to the checkout, so that a fresh clone elsewhere (CI) hits the same cache entries.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
ccache --max-size=5G >/dev/null 2>&1 || true
# shellcheck disable=SC2086
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" ${CMAKE_ARGS:-}
cmake --build "$build_dir" -j "$jobs"
echo "setup: built $build_dir/rave ($("$build_dir"/rave --version))"
