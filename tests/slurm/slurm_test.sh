#!/usr/bin/env bash
# slurm_test.sh RAVE: the slurm/ templates on a real one-node Slurm started for the test (local_cluster.sh):
#   1. `sbatch --wait slurm/train.sbatch` with a tiny run completes and leaves its checkpoint;
#   2. the same with LAUNCHER=mpirun (Open MPI's launcher inside the allocation);
#   3. a run that gets SIGUSR1 mid-training (what `#SBATCH --signal=B:USR1@120` sends before a time limit)
#      checkpoints, is requeued, logs SLURM_RESTART_COUNT=1 when it starts again, and ends with exactly the
#      parameters of run 1;
#   4. a batch script that runs rave without srun in a 2-task allocation fails with the world-size error;
#   5. a long run with a 1-minute time limit gets Slurm's own --signal=B:USR1@30 warning, stops with a checkpoint and
#      is requeued (then cancelled: its parameters are what test 3 compares);
#   6. scancel of a run with steps of seconds, through srun and through mpirun, ends in a checkpoint, not requeued.
# Exits 77 (skipped) when Slurm or munge is not installed, or when not run as root (slurmd must be).
set -euo pipefail
rave=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

for tool in munged slurmctld slurmd sbatch scontrol h5diff; do
  if ! command -v "$tool" >/dev/null; then
    echo "slurm_test.sh: SKIP: $tool is not installed (apt-get install slurm-wlm munge hdf5-tools)"
    exit 77
  fi
done
if [ "$(id -u)" -ne 0 ]; then echo "slurm_test.sh: SKIP: slurmd has to run as root"; exit 77; fi

work=$(mktemp -d)
cleanup() {
  "$here/local_cluster.sh" stop "$work/cluster" || true
  if [ -z "${KEEP_WORK:-}" ]; then rm -rf "$work"; else echo "slurm_test.sh: kept $work"; fi
}
trap cleanup EXIT
fail() {
  echo "slurm_test.sh: FAIL: $*" >&2
  for f in "$work"/*.out "$work"/cluster/slurmctld.log; do [ -f "$f" ] && { echo "==== $f"; tail -40 "$f"; }; done >&2
  exit 1
}
# The daemons of this test only, and nothing inherited from a Slurm job this test may itself run in.
unset "${!SLURM_@}"
"$here/local_cluster.sh" start "$work/cluster" >/dev/null
export SLURM_CONF=$work/cluster/slurm.conf
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1  # mpirun under root (LAUNCHER=mpirun)
# The vader single-copy mechanism needs ptrace rights that containers usually lack (tests/CMakeLists.txt).
export OMPI_MCA_btl_vader_single_copy_mechanism=none
# An early SIGUSR1 is held until the step is this old (slurm/common.sh): rave starts in a few seconds here.
export RAVE_STOP_GRACE=8

readonly steps=40
"$rave" synth --out "$work/data" --count 8 --size 48 --seed 0 --test-fraction 0 >/dev/null
cat >"$work/tiny.ini" <<INI
[data]
backlit = $work/data/train/backlit
welllit = $work/data/train/welllit
image-size = 32
loader-threads = 1
[train]
batch-size = 2
backend = mpi
max-steps = $steps
reconstruction-steps = 4
round-steps = 5
lr = 1e-4
checkpoint-every = 1000
sample-every = 1000
[guidance]
clip = photometric
clip-identity = pixels
INI
final=checkpoints/step_000000$steps.h5

# sbatch_train NAME [sbatch options...]: submits slurm/train.sbatch for run directory $work/NAME, sized for
# this machine (2 tasks of 1 CPU, no GPUs), from the checkout as a user would; the job gets this environment
# (--export=ALL), LAUNCHER included.
sbatch_train() {
  local name=$1
  shift
  (cd "$repo" && sbatch --job-name="$name" --output="$work/$name.out" --ntasks-per-node=2 --cpus-per-task=1 \
    --gpus-per-node=0 --time=10 --export="ALL,CONFIG=$work/tiny.ini,RUN_DIR=$work/$name,RAVE=$rave" "$@" \
    slurm/train.sbatch)
}
job_field() { scontrol show job "$1" | grep -oE "\b$2=[^ ]*" | head -1 | cut -d= -f2; }
# wait_for SECONDS WHAT COMMAND...: polls COMMAND until it succeeds.
wait_for() {
  local seconds=$1 what=$2
  shift 2
  for _ in $(seq $((seconds * 10))); do
    if "$@"; then return 0; fi
    sleep 0.1
  done
  fail "$what did not happen within ${seconds}s"
}
has_lines() { [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]; }
job_is() { [ "$(job_field "$1" JobState)" = "$2" ]; }
job_ended() { [[ $(job_field "$1" JobState) =~ ^(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY)$ ]]; }
restarted() { [ "$(job_field "$1" Restarts)" = "$2" ] && job_is "$1" PENDING; }
same_parameters() {
  local group
  for group in /enhancer /optimizer /trainer /sampler; do
    h5diff -q "$1" "$2" "$group" "$group" || fail "$group differs between $1 and $2"
  done
}

# 1. A tiny run to its end, with sbatch --wait.
sbatch_train straight --wait >/dev/null || fail "sbatch --wait slurm/train.sbatch failed"
grep -q "SLURM_RESTART_COUNT=0" "$work/straight.out" || fail "no SLURM_RESTART_COUNT=0 in straight.out"
grep -q "training finished at step $steps" "$work/straight.out" || fail "the straight run did not finish"
[ -f "$work/straight/$final" ] || fail "no $final after the straight run"
echo "slurm_test.sh: sbatch --wait slurm/train.sbatch: finished with $final"

# 2. The same through mpirun inside the allocation.
# (Polled rather than sbatch --wait, which checks less and less often: half a minute late by the second job.)
job=$(LAUNCHER=mpirun sbatch_train mpirun --parsable)
wait_for 300 "job $job ending" job_ended "$job"
job_is "$job" COMPLETED || fail "LAUNCHER=mpirun slurm/train.sbatch ended $(job_field "$job" JobState)"
same_parameters "$work/straight/$final" "$work/mpirun/$final"
echo "slurm_test.sh: LAUNCHER=mpirun: the same parameters as srun"

# 3. SIGUSR1 to the batch script mid-training, as --signal=B:USR1@120 sends it.
# The run is already training (metrics are logged), so the script need not hold the signal: with the default
# RAVE_STOP_GRACE of 30 s an idle machine finishes the 40 steps before the signal is passed on.
job=$(RAVE_STOP_GRACE=0 sbatch_train preempted --parsable)
wait_for 120 "the preempted run reaching step 3" has_lines "$work/preempted/metrics.jsonl" 3
scancel --batch --signal=USR1 "$job"
wait_for 120 "the requeue of job $job" restarted "$job" 1
wait_for 300 "job $job ending after its requeue" job_ended "$job"
job_is "$job" COMPLETED || fail "the requeued job $job ended $(job_field "$job" JobState)"
out=$work/preempted.out
grep -q "rave: got SIGUSR1" "$out" || fail "the batch script did not report SIGUSR1"
# srun passes the signal to the ranks one after the other: the second may count it only a step later.
grep -Eq "stopped at step [0-9]+ on request \(SIGUSR1 on [12] of 2 rank\(s\)\)" "$out" || fail "no stop line in $out"
grep -q "requeueing job $job" "$out" || fail "the job was not requeued by the script"
grep -q "Slurm job $job (SLURM_RESTART_COUNT=1)" "$out" || fail "the requeued rave did not log SLURM_RESTART_COUNT=1"
grep -Eq "resumed from .* at step [0-9]+" "$out" || fail "the requeued run did not resume"
same_parameters "$work/straight/$final" "$work/preempted/$final"
stop_step=$(sed -nE 's/.*stopped at step ([0-9]+) on request.*/\1/p' "$out")
echo "slurm_test.sh: SIGUSR1 at step $stop_step: checkpointed, requeued, resumed to the same parameters"

# 4. rave started by a batch script without srun in an allocation of 2 tasks.
(cd "$work" && sbatch --wait --ntasks=2 --output="$work/nosrun.out" --wrap "$rave train --config $work/tiny.ini \
  --run-dir $work/nosrun" >/dev/null) && fail "rave without srun in a 2-task allocation did not fail"
grep -q "without srun or mpirun" "$work/nosrun.out" || fail "no world-size error in nosrun.out"
echo "slurm_test.sh: rave without srun in a 2-task allocation: refused with the world-size error"

# 5. The time-limit warning itself. Slurm checks for due --signal warnings periodically and sends them somewhat
# early, in a 1-minute job anywhere from its first seconds on; the script holds it until the step is
# RAVE_STOP_GRACE old (a rank that gets SIGUSR1 before rave installed its handler would die of it). max-steps is
# far away, so the run is mid-training when it stops.
job=$(sbatch_train timelimit --parsable --time=1 --signal=B:USR1@30 \
  --export="ALL,CONFIG=$work/tiny.ini,RUN_DIR=$work/timelimit,RAVE=$rave,RAVE_ARGS=--max-steps 100000")
wait_for 120 "the requeue of job $job before its time limit" restarted "$job" 1
scancel "$job"
grep -Eq "stopped at step [0-9]+ on request \(SIGUSR1" "$work/timelimit.out" || fail "no stop line in timelimit.out"
stopped_line=$(sed -nE 's/.*(stopped at step [0-9]+).*/\1/p' "$work/timelimit.out")
echo "slurm_test.sh: --time=1 --signal=B:USR1@30: $stopped_line, checkpointed and requeued before the time limit"
# 6. scancel (SIGTERM to the batch script, mpirun and every rank, SIGKILL KillWait = 30 s later) mid-step, with steps
# of seconds, through both launchers: the ranks checkpoint before anything kills them (under mpirun thanks to
# MPIRUN_KILL_TIMEOUT, slurm/common.sh; with mpirun's default of 1 s no checkpoint was written), and the script
# does not requeue.
"$rave" synth --out "$work/data320" --count 4 --size 320 --seed 0 --test-fraction 0 >/dev/null
sed -e "s|$work/data/|$work/data320/|" -e 's/^image-size = 32$/image-size = 320/' "$work/tiny.ini" >"$work/slow.ini"
for launcher in srun mpirun; do
  name=cancelled-$launcher
  job=$(LAUNCHER=$launcher sbatch_train "$name" --parsable \
    --export="ALL,CONFIG=$work/slow.ini,RUN_DIR=$work/$name,RAVE=$rave,RAVE_ARGS=--max-steps 100000 \
--log-file $work/$name.log")
  wait_for 180 "the $launcher run reaching step 3" has_lines "$work/$name/metrics.jsonl" 3
  scancel "$job"
  wait_for 60 "job $job ending after scancel" job_ended "$job"
  # The run's log file: once mpirun has SIGTERM it no longer passes the ranks' output on to the job's.
  out=$work/$name.log
  step_seconds=$(python3 -c 'import json, sys
times = [json.loads(line)["time"] for line in open(sys.argv[1])]
print(min(b - a for a, b in zip(times, times[1:])))' "$work/$name/metrics.jsonl")
  python3 -c "import sys; sys.exit(0 if $step_seconds > 1 else 1)" ||
    fail "$launcher: steps of $step_seconds s are too short to show that the ranks outlast mpirun's default 1 s"
  wait_for 30 "the stop line in $out" grep -Eq "stopped at step [0-9]+ on request \(.*SIGTERM" "$out"
  stop_step=$(sed -nE 's/.*stopped at step ([0-9]+) on request.*/\1/p' "$out")
  [ -f "$work/$name/checkpoints/$(printf 'step_%08d.h5' "$stop_step")" ] || fail "$launcher: no checkpoint after scancel"
  grep -q "requeueing job" "$work/$name.out" && fail "$launcher: the script requeued a cancelled job"
  echo "slurm_test.sh: scancel, LAUNCHER=$launcher, ${step_seconds} s steps: checkpoint at step $stop_step, not requeued"
done
echo "slurm_test.sh: passed"
