# shellcheck shell=bash
# Shared by the slurm/*.sbatch templates (sourced, not run): how a job step is launched, and the preemption
# contract of slurm/README.md — forward the stop signal to the step, requeue the job when the step stopped on
# request with a complete checkpoint.

# Exit code of a rave run that stopped on SIGUSR1/SIGTERM after a complete checkpoint (dist/stop_signal.h).
readonly RAVE_EXIT_STOPPED=75

# rave_launcher: sets the array `launcher` to the command that starts a job step over every task of the
# allocation. LAUNCHER=srun (default) is Slurm's own launcher with PMIx (SRUN_MPI, see `srun --mpi=list`);
# LAUNCHER=mpirun is Open MPI's, which reads the allocation from Slurm by itself (MPIRUN_ARGS adds flags).
# scancel, a time limit and a preemption send SIGTERM to every process of the job, mpirun and the ranks alike:
# the ranks take it as a stop request, but mpirun answers it by killing them odls_base_sigkill_timeout seconds
# later (1 by default), before a step of more than a second ends in its checkpoint. MPIRUN_KILL_TIMEOUT (25, under
# Slurm's default KillWait of 30 s, after which Slurm kills everything itself) gives the ranks that long.
# An array, not a function: run_preemptible must start the launcher itself as its background child, so that the
# signal it forwards reaches srun or mpirun and not a subshell.
rave_launcher() {
  case ${LAUNCHER:-srun} in
    srun)
      # No --kill-on-bad-exit: on a stop every rank exits with 75, and the first one out must not kill the rest.
      launcher=(srun --mpi="${SRUN_MPI:-pmix}") ;;
    mpirun)
      local -a extra=()
      read -ra extra <<<"${MPIRUN_ARGS:-}"
      # Each rank bound to its --cpus-per-task cores.
      launcher=(mpirun -np "$SLURM_NTASKS" --map-by "slot:PE=${SLURM_CPUS_PER_TASK:-1}" --bind-to core
        --mca odls_base_sigkill_timeout "${MPIRUN_KILL_TIMEOUT:-25}" "${extra[@]}") ;;
    *)
      echo "rave: LAUNCHER=$LAUNCHER: expected srun or mpirun" >&2
      exit 2 ;;
  esac
}

# forward_stop NAME: what the traps of run_stoppable do with a signal (NAME says which, for the log). A rank
# that gets SIGUSR1 before rave has installed its handler (during MPI and CUDA start-up) dies of it, so a SIGUSR1
# (or SIGINT) that comes early is held until the step is RAVE_STOP_GRACE seconds old (default 30; Slurm may send
# --signal warnings up to a minute early). After SIGTERM the ranks have their own SIGTERM from Slurm already.
forward_stop() {
  echo "rave: got $1, asking the ranks to checkpoint and stop"
  local age=$((SECONDS - step_started)) grace=${RAVE_STOP_GRACE:-30}
  if [ "$1" != SIGTERM ] && [ "$age" -lt "$grace" ]; then sleep $((grace - age)); fi
  if [ -n "$step_pid" ]; then kill -USR1 "$step_pid" 2>/dev/null || true; fi
}

# forward_interrupt: Ctrl-C. The first asks for a checkpoint as SIGUSR1 does (at once: a person is waiting); the
# second ends the step without one (SIGTERM: mpirun then kills the ranks).
forward_interrupt() {
  if [ "$signals_int" -eq 1 ]; then
    echo "rave: Ctrl-C again stops at once, without a checkpoint"
    forward_stop SIGINT
  else
    echo "rave: got SIGINT again, ending the step without a checkpoint"
    kill -TERM "$step_pid" 2>/dev/null || true
  fi
}

# run_stoppable COMMAND...: runs COMMAND (srun or mpirun) in the background so that this shell can take signals
# while it runs, and turns SIGUSR1, SIGTERM and SIGINT into SIGUSR1 for the step: srun and mpirun both pass
# SIGUSR1 on to every rank at once, while mpirun answers SIGTERM or SIGINT by killing the ranks (Open MPI 4.1:
# SIGCONT at once, SIGTERM odls_base_sigkill_timeout seconds later, 1 by default, SIGKILL as long again after
# that, and exit code 1 whatever the ranks returned). The ranks stop after their current step with a complete
# checkpoint and exit 75, which becomes the step's exit code. RAVE_OWN_SESSION=1 starts COMMAND in a session of
# its own (setsid), out of reach of a terminal's Ctrl-C, which only this shell should get. Sets `stopped_by_term`
# when SIGTERM came. Returns the step's exit code.
run_stoppable() {
  local signals=0 signals_int=0 seen code step_pid="" step_started=$SECONDS
  stopped_by_term=""
  trap 'signals=$((signals + 1)); forward_stop SIGUSR1' USR1
  trap 'signals=$((signals + 1)); stopped_by_term=1; forward_stop SIGTERM' TERM
  trap 'signals=$((signals + 1)); signals_int=$((signals_int + 1)); forward_interrupt' INT
  if [ "${RAVE_OWN_SESSION:-0}" = 1 ]; then setsid "$@" & else "$@" & fi
  step_pid=$!
  # A trapped signal makes `wait` return early (status > 128) while the step still runs: wait again.
  while :; do
    seen=$signals
    code=0
    wait "$step_pid" || code=$?
    [ "$signals" != "$seen" ] || break
  done
  trap - USR1 TERM INT
  return "$code"
}

# run_preemptible COMMAND...: run_stoppable for a batch job. SIGUSR1 comes from `#SBATCH --signal=B:USR1@120` or
# `scancel --signal=USR1 --batch JOB`. When the step ends with RAVE_EXIT_STOPPED the job is requeued, unless this
# shell got SIGTERM: that is scancel, a time limit reached without the warning, or a preemption (which Slurm
# requeues itself when the cluster is configured to). Returns the step's exit code.
run_preemptible() {
  local code=0
  run_stoppable "$@" || code=$?
  if [ "$code" -eq "$RAVE_EXIT_STOPPED" ]; then
    if [ -n "$stopped_by_term" ]; then
      echo "rave: the step stopped with a complete checkpoint after SIGTERM; not requeueing (submit again to continue)"
    else
      # Said first: requeueing a running job ends this script.
      echo "rave: the step stopped with a complete checkpoint; requeueing job $SLURM_JOB_ID" \
        "(it resumes with --resume auto)"
      scontrol requeue "$SLURM_JOB_ID" ||
        echo "rave: requeueing job $SLURM_JOB_ID failed (submitted with --requeue?); submit again to continue" >&2
    fi
  fi
  return "$code"
}

# rave_args_from VARIABLE: the words of $VARIABLE (RAVE_ARGS, ...) as an array named `args`.
rave_args_from() {
  args=()
  read -ra args <<<"${!1:-}"
}

# The start line of every run, restarts included (the job id stays the same when Slurm requeues a job).
rave_job_banner() {
  echo "rave: job ${SLURM_JOB_ID} (${SLURM_JOB_NAME}) on ${SLURM_JOB_NODELIST}: ${SLURM_NTASKS} task(s)," \
    "SLURM_RESTART_COUNT=${SLURM_RESTART_COUNT:-0}, started $(date -u +%FT%TZ)"
}

# rave_train_job: the body of train.sbatch and train-multinode.sbatch. `rave train --resume auto` starts fresh
# when the run directory has no checkpoint and continues from the newest complete one after a requeue;
# --threads gives each rank the cores of its task.
rave_train_job() {
  : "${CONFIG:?set CONFIG to the INI file of the run: sbatch --export=ALL,CONFIG=configs/rave.ini slurm/TEMPLATE}"
  rave_job_banner
  rave_args_from RAVE_ARGS
  local -a run_dir=()
  if [ -n "${RUN_DIR:-}" ]; then run_dir=(--run-dir "$RUN_DIR"); fi
  rave_launcher
  run_preemptible "${launcher[@]}" "${RAVE:-build/rave}" train --config "$CONFIG" "${run_dir[@]}" --resume auto \
    --threads "${SLURM_CPUS_PER_TASK:-0}" "${args[@]}"
}

# rave_job SUBCOMMAND: the body of residual.sbatch and analyze.sbatch, short jobs that are simply run again
# if they are interrupted: `rave SUBCOMMAND [--config CONFIG] RAVE_ARGS...` over every task.
rave_job() {
  rave_job_banner
  rave_args_from RAVE_ARGS
  local -a config=()
  if [ -n "${CONFIG:-}" ]; then config=(--config "$CONFIG"); fi
  rave_launcher
  "${launcher[@]}" "${RAVE:-build/rave}" "$1" "${config[@]}" --threads "${SLURM_CPUS_PER_TASK:-0}" "${args[@]}"
}
