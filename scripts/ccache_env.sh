# shellcheck shell=bash
# Sourced by the build scripts (setup.sh, fuzz.sh): the compiler cache's settings, run from the checkout's root.
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
# Paths relative to the checkout, so that a fresh clone elsewhere (CI) hits the same cache entries.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
ccache --max-size=5G >/dev/null 2>&1 || true
