# Sourced by the side-by-side scripts (clip.sh, enhance.sh, compare.sh): the Python that runs the PyTorch eager
# baselines (Debian's python3-torch, deliberately not a rave dependency), a scratch folder removed on exit,
# `equal_settings`, which gives both sides the same threads and OpenMP wait policy, `rave_bench`, which runs a
# rave bench task with them, and `record`, which prints a JSON line at once (an interrupted run still shows what
# it measured) and keeps it in `lines` for the summary.
python=/usr/bin/python3

# require_python SCRIPT MODULE...: stops with the apt-get command to run when a module is missing.
require_python() {
  local script=$1 module missing=""
  shift
  for module in "$@"; do
    "$python" -c "import $module" 2>/dev/null || missing+=" python3-${module,,}"
  done
  if [ -n "$missing" ]; then
    echo "$script: needs$missing (apt-get install -y$missing)" >&2
    exit 1
  fi
}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# equal_settings THREADS: OpenBLAS reads its own thread count, libgomp its wait policy when it loads, and both
# sides inherit them from here (rave would otherwise re-execute itself with PASSIVE: exported, it keeps what it
# is given). The allocator is each side's default: neither preloads one.
equal_settings() {
  bench_threads=$1
  export OMP_NUM_THREADS=$bench_threads OPENBLAS_NUM_THREADS=$bench_threads OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
  unset LD_PRELOAD MALLOC_CONF
}

# rave_bench BUILD_DIR TASK [flags...]: one task's JSON line; its log is shown only when it fails.
rave_bench() {
  "$1/rave" bench "${@:2}" --threads "$bench_threads" 2>"$scratch/rave_bench.log" || {
    cat "$scratch/rave_bench.log" >&2
    echo "${0##*/}: rave bench ${2} failed (its log is above)" >&2
    exit 1
  }
}

lines=()
record() {
  [ -n "$1" ] || { echo "${0##*/}: a benchmark printed nothing (its error is above)" >&2; exit 1; }
  lines+=("$1")
  printf '%s\n' "$1"
}
