#!/usr/bin/env bash
# local_cluster.sh start DIR | stop DIR: a one-node Slurm (munged, slurmctld, slurmd on this machine) whose
# configuration, state, sockets and logs all live in DIR, so that a test can start and stop it without
# touching /etc or a system Slurm. After `start`, clients need SLURM_CONF=DIR/slurm.conf (printed).
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
action=$1
dir=$(realpath -m "$2")

# A port pair nobody listens on: a fixed default would collide with a system Slurm or a parallel test run.
free_port() {
  local port
  for port in $(shuf -i 20000-29999 -n 50); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  echo "local_cluster.sh: no free TCP port found" >&2; exit 1
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND until it succeeds
  local seconds=$1 what=$2
  shift 2
  for _ in $(seq $((seconds * 5))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "local_cluster.sh: $what did not happen within ${seconds}s; logs in $dir" >&2
  return 1
}

start() {
  mkdir -p "$dir"/{state,spool,munge}
  chmod 700 "$dir/munge"
  local host cpus memory
  host=$(hostname -s)
  cpus=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)  # GNU nproc obeys OMP_NUM_THREADS (=1 under ctest)
  memory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 2048 ))  # half the machine, in MiB

  # munge: its own key and socket; the key only has to be shared by the daemons of this one machine.
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$dir/munge/munge.key"
  munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed"
  wait_for 10 "munged start" test -S "$dir/munge/munge.socket"

  cat >"$dir/slurm.conf" <<CONF
ClusterName=ravetest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire is also how long slurmctld holds a requeued job back (default 120 s): a test need not wait that long.
AuthInfo=socket=$dir/munge/munge.socket,cred_expire=10
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
# No cgroups: containers rarely delegate them; process tracking by parent pid is enough for a test.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
JobRequeue=1
ReturnToService=2
# Slurm's default: the time scancel leaves a job between SIGTERM and SIGKILL, to checkpoint in (slurm_test.sh 6).
KillWait=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF=$dir/slurm.conf
  slurmctld -f "$SLURM_CONF" -c
  slurmd -f "$SLURM_CONF"
  wait_for 30 "node $host becoming idle" bash -c "sinfo -h -n $host -o %t | grep -qx idle"
  echo "SLURM_CONF=$SLURM_CONF"
}

stop() {
  local pidfile pid
  for pidfile in "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/munge/munged.pid"; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  done
}

case $action in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
