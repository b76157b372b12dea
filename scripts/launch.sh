#!/usr/bin/env bash
# launch.sh SUBCOMMAND [rave options...]: runs a rave subcommand on this machine with sensible mpirun flags.
#   scripts/launch.sh train --config configs/rave.ini
# Ranks: one per GPU (nvidia-smi), else one per CPU socket; each rank bound to its share of the cores, with that
# many intra-op threads (rave's own default, --threads overrides). Subcommands that do not run as ranks
# (report, plot, synth, ...) run as one plain process.
# Variables: RANKS (override the rank count), RAVE (the executable, default build/rave), MPIRUN_ARGS (more mpirun
# flags), LAUNCH_DRY_RUN=1 (print the command instead of running it). On Slurm use slurm/*.sbatch instead.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rave=${RAVE:-$root/build/rave}

if [ $# -eq 0 ] || [ "$1" = --help ] || [ "$1" = -h ]; then
  sed -n '2,8s/^# \{0,1\}//p' "$0"
  exit 0
fi
[ -x "$rave" ] || { echo "launch.sh: $rave is not built (hint: scripts/setup.sh, or set RAVE)" >&2; exit 1; }

run() {
  echo "launch.sh: $*" >&2
  if [ -n "${LAUNCH_DRY_RUN:-}" ]; then exit 0; fi
  exec "$@"
}

# The subcommands that start MPI themselves (launch/commands: Command::distributed).
case $1 in
  train | residual | analyze | correct | enhance | eval | bench) ;;
  *) run "$rave" "$@" ;;
esac

# Physical cores this process may use: the cores of the machine, but no more than its CPU affinity allows
# (containers and cgroups often allow fewer).
sockets=$(lscpu -p=SOCKET | grep -v '^#' | sort -u | wc -l)
cores=$(lscpu -p=SOCKET,CORE | grep -v '^#' | sort -u | wc -l)
allowed=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)  # GNU nproc would obey OMP_NUM_THREADS
cores=$(( cores < allowed ? cores : allowed ))
gpus=0
if command -v nvidia-smi >/dev/null 2>&1; then gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true); fi

if [ -n "${RANKS:-}" ]; then
  ranks=$RANKS
elif [ "$gpus" -gt 0 ]; then
  ranks=$gpus
else
  ranks=$(( sockets < cores ? sockets : cores ))
fi
per_rank=$(( cores / ranks > 0 ? cores / ranks : 1 ))

flags=(-np "$ranks")
if [ "$ranks" -le "$cores" ]; then
  flags+=(--map-by "slot:PE=$per_rank" --bind-to core)  # each rank on its own cores, next to its memory
else
  flags+=(--oversubscribe --bind-to none)  # more ranks than cores (RANKS=...): let the kernel share them
fi
if [ "$(id -u)" -eq 0 ]; then flags+=(--allow-run-as-root); fi  # containers; mpirun refuses root otherwise
read -ra extra <<<"${MPIRUN_ARGS:-}"
echo "launch.sh: $ranks rank(s) ($gpus GPU(s), $sockets socket(s), $cores core(s)), $per_rank core(s) per rank" >&2
run mpirun "${flags[@]}" "${extra[@]}" "$rave" "$@"
