#!/usr/bin/env bash
# preemption_cli.sh RAVE MPIRUN [MPIRUN FLAGS...]: the signal contract of slurm/README.md through the real rave
# executable and a real mpirun, without Slurm:
#   - SIGUSR1 sent to mpirun mid-training: every rank stops after the same step with a complete checkpoint and
#     exit code 75; `--resume auto` then ends with exactly the parameters of an uninterrupted run;
#   - SIGTERM sent to a single-process run (as slurmstepd sends it to srun's tasks): the same stop;
#   - SIGTERM and Ctrl-C (SIGINT) sent to scripts/rave-mpirun with steps longer than the 2 s mpirun gives its ranks
#     after its own SIGTERM or SIGINT: the same stop with exit code 75 (plain mpirun: killed ranks, exit 1);
#   - resuming with another number of ranks is a usage error unless --allow-world-size-change, which re-shards
#     the enhancer's data and, inside a CLIP-LIT guidance phase, the guidance data;
#   - the "N singletons" mistake (Slurm started 2 tasks, MPI sees 1) is a usage error saying so.
# Weight-free encoders on synthetic scenes: no fixtures needed.
set -euo pipefail
rave=$1
shift
mpirun=("$@")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
readonly steps=24 stopped=75
# The direct single-process runs below must not look like tasks of a surrounding Slurm job (ctest under salloc).
unset SLURM_NTASKS SLURM_STEP_NUM_TASKS

fail() { echo "preemption_cli.sh: FAIL: $*" >&2; exit 1; }
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
# expect CODE LOG PATTERN: the last command's exit code and a line of its log.
expect() {
  [ "$1" -eq "$code" ] || { cat "$2"; fail "expected exit code $1, got $code"; }
  grep -Eq -- "$3" "$2" || { cat "$2"; fail "no line matching /$3/ in $2"; }
}
# run_until_signalled SIGNAL LOG COMMAND...: starts COMMAND, sends SIGNAL to it once the run has logged 3 steps,
# and sets `code` to its exit code.
run_until_signalled() {
  local signal=$1 log=$2 metrics=$work/interrupted/metrics.jsonl
  shift 2
  rm -rf "$work/interrupted"
  "$@" >"$log" 2>&1 &
  local pid=$!
  while [ "$(lines "$metrics")" -lt 3 ] && kill -0 "$pid" 2>/dev/null; do sleep 0.02; done
  kill -s "$signal" "$pid" 2>/dev/null || true
  code=0
  wait "$pid" || code=$?
}
same_parameters() {  # the groups that make up the state of a run; h5diff exits 1 on any difference
  local group
  for group in /enhancer /optimizer /trainer /sampler; do
    h5diff -q "$1" "$2" "$group" "$group" || fail "$group differs between $1 and $2"
  done
}

"$rave" synth --out "$work/data" --count 8 --size 48 --seed 0 --test-fraction 0 >/dev/null 2>&1
train=(train --backlit "$work/data/train/backlit" --welllit "$work/data/train/welllit" --clip photometric
  --clip-identity pixels --image-size 32 --batch-size 2 --loader-threads 1 --threads 1 --backend mpi
  --reconstruction-steps 4 --round-steps 5 --lr 1e-4 --checkpoint-every 1000 --sample-every 1000)
final=checkpoints/step_000000$steps.h5

code=0
"${mpirun[@]}" -np 2 "$rave" "${train[@]}" --max-steps "$steps" --run-dir "$work/straight" >"$work/straight.log" 2>&1 ||
  code=$?
expect 0 "$work/straight.log" "training finished at step $steps"

# SIGUSR1 to mpirun, which forwards it to every rank.
run_until_signalled USR1 "$work/usr1.log" "${mpirun[@]}" -np 2 "$rave" "${train[@]}" --max-steps "$steps" \
  --run-dir "$work/interrupted"
# mpirun passes the signal to the ranks one after the other: the second may count it only a step later.
expect "$stopped" "$work/usr1.log" "stopped at step [0-9]+ on request \(SIGUSR1 on [12] of 2 rank\(s\)\)"
stop_step=$(sed -nE 's/.*stopped at step ([0-9]+) on request.*/\1/p' "$work/usr1.log")
[ "$stop_step" -lt "$steps" ] || fail "the run was not stopped before its end"
[ "$(lines "$work/interrupted/metrics.jsonl")" -eq "$stop_step" ] || fail "metrics.jsonl goes past step $stop_step"
code=0
"${mpirun[@]}" -np 2 "$rave" "${train[@]}" --max-steps "$steps" --run-dir "$work/interrupted" --resume auto \
  >"$work/resumed.log" 2>&1 || code=$?
expect 0 "$work/resumed.log" "resumed from .*step_0*$stop_step.h5 at step $stop_step"
same_parameters "$work/straight/$final" "$work/interrupted/$final"
echo "preemption_cli.sh: SIGUSR1 at step $stop_step under mpirun -np 2: stopped with exit $stopped," \
  "resumed to the same parameters"

# Another world size: refused, then allowed and re-sharded.
code=0
"$rave" "${train[@]}" --run-dir "$work/interrupted" --resume auto --max-steps $((steps + 4)) >"$work/world.log" 2>&1 ||
  code=$?
expect 2 "$work/world.log" "written by 2 rank\(s\), this run has 1.*--allow-world-size-change"
code=0
"$rave" "${train[@]}" --run-dir "$work/interrupted" --resume auto --max-steps $((steps + 4)) --allow-world-size-change \
  >"$work/world.log" 2>&1 || code=$?
expect 0 "$work/world.log" "written by 2 rank\(s\), this run has 1; the data is re-sharded"

# SIGTERM delivered to the rank itself, as srun's tasks get it at a time limit or on scancel.
run_until_signalled TERM "$work/term.log" "$rave" "${train[@]}" --max-steps "$steps" --run-dir "$work/interrupted"
expect "$stopped" "$work/term.log" "stopped at step [0-9]+ on request \(SIGTERM on 1 of 1 rank\(s\)\)"

# scripts/rave-mpirun with steps too long for plain mpirun's grace: SIGTERM, then Ctrl-C (job control on, so that
# the background wrapper does not start with SIGINT ignored, as a non-interactive shell's background jobs do).
rave_mpirun=$(cd "$(dirname "$0")/../.." && pwd)/scripts/rave-mpirun
long=("${train[@]/#32/320}" --max-steps "$steps")  # --image-size 320: steps of seconds
for signal in TERM INT; do
  set -m
  RAVE_STOP_GRACE=0 MPIRUN=${mpirun[0]} run_until_signalled "$signal" "$work/wrapper-$signal.log" \
    "$rave_mpirun" "${mpirun[@]:1}" -np 2 "$rave" "${long[@]}" --run-dir "$work/interrupted"
  set +m
  expect "$stopped" "$work/wrapper-$signal.log" "stopped at step [0-9]+ on request \(SIGUSR1 on [12] of 2 rank\(s\)\)"
  step_seconds=$(python3 -c 'import json, sys
times = [json.loads(line)["time"] for line in open(sys.argv[1])]
print(min(b - a for a, b in zip(times[1:], times[2:])))' "$work/interrupted/metrics.jsonl")
  python3 -c "import sys; sys.exit(0 if $step_seconds > 2 else 1)" ||
    fail "steps of $step_seconds s are too short to show that rave-mpirun outlasts mpirun's 2 s"
  stop_step=$(sed -nE 's/.*stopped at step ([0-9]+) on request.*/\1/p' "$work/wrapper-$signal.log")
  [ -f "$work/interrupted/checkpoints/$(printf 'step_%08d.h5' "$stop_step")" ] || fail "no checkpoint after SIG$signal"
  echo "preemption_cli.sh: SIG$signal to scripts/rave-mpirun with ${step_seconds} s steps: stopped with exit $stopped"
done

# CLIP-LIT-Latent stopped inside its guidance initialisation under 2 ranks, resumed on 1: the guidance sampler's
# position is re-sharded too, and the run goes on through warm-up and its guided round.
latent=("${train[@]}" --method clip-lit-latent --guidance-init-steps 40 --guidance-batch-size 2
  --guidance-image-size 32 --max-steps 6)
run_until_signalled USR1 "$work/latent.log" "${mpirun[@]}" -np 2 "$rave" "${latent[@]}" --run-dir "$work/interrupted"
expect "$stopped" "$work/latent.log" "stopped at step [0-9]+ on request"
code=0
"$rave" "${latent[@]}" --run-dir "$work/interrupted" --resume auto --allow-world-size-change \
  >"$work/latent-world.log" 2>&1 || code=$?
expect 0 "$work/latent-world.log" "the guidance phase's data is re-sharded from 2 to 1 rank\(s\)"
expect 0 "$work/latent-world.log" "training finished at step 6"
echo "preemption_cli.sh: clip-lit-latent stopped in its guidance initialisation on 2 ranks, resumed on 1"

# The "N singletons" mistake: Slurm started 2 tasks of an srun step, MPI sees a world of one.
code=0
SLURM_JOB_ID=1 SLURM_NTASKS=2 SLURM_STEP_NUM_TASKS=2 "$rave" "${train[@]}" --max-steps "$steps" \
  --run-dir "$work/singletons" >"$work/singletons.log" 2>&1 || code=$?
expect 2 "$work/singletons.log" "MPI sees a world of 1 rank but Slurm started 2 tasks .*N singletons"
echo "preemption_cli.sh: passed"
