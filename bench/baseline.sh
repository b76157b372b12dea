# Sourced by the side-by-side scripts (clip.sh, enhance.sh, compare.sh): the Python that runs the PyTorch eager
# baselines (Debian's python3-torch, deliberately not a rave dependency), a scratch folder removed on exit, and
# `record`, which prints a JSON line at once (an interrupted run still shows what it measured) and keeps it in
# `lines` for the summary.
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

lines=()
record() {
  [ -n "$1" ] || { echo "${0##*/}: a benchmark printed nothing (its error is above)" >&2; exit 1; }
  lines+=("$1")
  printf '%s\n' "$1"
}
