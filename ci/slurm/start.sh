#!/usr/bin/env bash
# Install and start a single-node SLURM cluster (munged, slurmctld, slurmd) on a Debian
# machine, as root and without systemd, for testing job arrays against a real scheduler.
#
# Usage: ci/slurm/start.sh        (then: export SLURM_CONF=$METALAB_SLURM_STATE/slurm.conf)
#        ci/slurm/stop.sh         stops exactly the daemons this script started
#
# Environment:
#   METALAB_SLURM_STATE    state directory (default /tmp/metalab-slurm): slurm.conf, the
#                          recorded PIDs, logs and spool directories
#   METALAB_SLURM_TIMEOUT  seconds to wait for each daemon to come up (default 60)
#   METALAB_SLURM_APT_TIMEOUT  seconds allowed for apt-get update + install (default 600)
#   METALAB_SLURM_MAX_ARRAY_SIZE  the cluster's MaxArraySize (default: SLURM's, 1001); a
#                          running cluster with another one is restarted with it
#
# Exit status: 0 when the cluster is up (already running counts), 3 when this machine
# cannot host it (not root, not Debian/apt, packages cannot be installed), 1 otherwise.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$here/common.sh"

readonly UNAVAILABLE=3
readonly MARKER=.metalab-slurm-state
readonly PACKAGES=(munge slurmctld slurmd slurm-client)
wait_limit="${METALAB_SLURM_TIMEOUT:-60}"
apt_limit="${METALAB_SLURM_APT_TIMEOUT:-600}"
max_array_size="${METALAB_SLURM_MAX_ARRAY_SIZE:-}"
case "$max_array_size" in
  "" | [1-9] | [1-9][0-9] | [1-9][0-9][0-9] | [1-9][0-9][0-9][0-9] | [1-9][0-9][0-9][0-9][0-9]) ;;
  *) die "METALAB_SLURM_MAX_ARRAY_SIZE must be an integer from 1 to 99999, got '$max_array_size'" ;;
esac

unavailable() { log "unavailable: $*"; exit "$UNAVAILABLE"; }

[ "$(id -u)" -eq 0 ] || unavailable "must run as root to install and start SLURM daemons"

install_packages() {
  local missing=() pkg
  if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
    unavailable "dpkg/apt-get not found: this script supports Debian-based systems only"
  fi
  for pkg in "${PACKAGES[@]}"; do
    if [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]; then
      missing+=("$pkg")
    fi
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  local apt_log
  apt_log="$(mktemp -t metalab-slurm-apt.XXXXXX)"
  log "installing ${missing[*]} (at most ${apt_limit}s per apt-get step; output in $apt_log)"
  export DEBIAN_FRONTEND=noninteractive
  if ! timeout "$apt_limit" apt-get update -qq >>"$apt_log" 2>&1; then
    tail -n 20 "$apt_log" >&2
    unavailable "apt-get update failed or timed out after ${apt_limit}s"
  fi
  if ! timeout "$apt_limit" apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$apt_log" 2>&1; then
    tail -n 20 "$apt_log" >&2
    unavailable "apt-get install ${missing[*]} failed or timed out after ${apt_limit}s"
  fi
  rm -f "$apt_log"
}

munge_works() { munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; }
ctld_up() { timeout 5 scontrol ping 2>/dev/null | grep -q 'is UP'; }
node_idle() {
  local state
  state="$(timeout 5 sinfo --noheader --nodes="$node" --format=%T 2>/dev/null)" || return 1
  [ "$state" = "idle" ]
}

cluster_healthy() {
  recorded_pid slurmctld >/dev/null && recorded_pid slurmd >/dev/null \
    && munge_works && ctld_up && timeout 5 sinfo --noheader --nodes="$node" --format=%T 2>/dev/null \
      | grep -Eq '^(idle|mixed|allocated|completing)$'
}

# start NAME COMMAND...: run a daemon in the foreground of its own session, log to the
# state directory, and record its PID (setsid and setpriv exec, so $! is the daemon).
start() {
  local name="$1"
  shift
  setsid "$@" </dev/null >>"$STATE_DIR/log/$name.log" 2>&1 &
  record "$name" "$!"
  log "started $name (PID $!)"
}

# still_running NAME: after a daemon answered, check the recorded PID is the one that did
# (if setsid had forked, the recorded PID would be a process that already exited).
still_running() {
  recorded_pid "$1" >/dev/null || fail_with_log "$1" "$1 is not running as the recorded PID $(cat "$PID_DIR/$1")"
}

fail_with_log() {
  local name="$1"
  shift
  log "$*"
  if [ -r "$STATE_DIR/log/$name.log" ]; then
    log "last lines of $STATE_DIR/log/$name.log:"
    tail -n 20 "$STATE_DIR/log/$name.log" >&2
  fi
  exit 1
}

# A daemon this script did not record (another cluster, or one whose record was lost)
# would answer in place of the new one; refuse rather than test against it.
port_free() {
  if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
    die "port $1 is in use, by a $2 this script did not start (stop it, then retry)"
  fi
}

write_conf() {
  local cpus
  cpus="$(nproc)"
  cat >"$SLURM_CONF" <<CONF
# Written by ci/slurm/start.sh: a single-node cluster on 127.0.0.1.
ClusterName=metalab
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE_DIR/ctld
SlurmdSpoolDir=$STATE_DIR/spool
SlurmctldPidFile=$STATE_DIR/run/slurmctld.pid
SlurmdPidFile=$STATE_DIR/run/slurmd.pid
SlurmctldLogFile=$STATE_DIR/log/slurmctld-internal.log
SlurmdLogFile=$STATE_DIR/log/slurmd-internal.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
# Without a short MinJobAge, sbatch --wait only polls every 32 s.
MinJobAge=5
# An epilog's completion message makes slurmctld schedule at once; without one, freed CPUs
# wait for its once-a-second background pass (about 2 array tasks/s here instead of 17).
Epilog=/bin/true
SchedulerParameters=batch_sched_delay=0
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  if [ -n "$max_array_size" ]; then
    printf 'MaxArraySize=%s\n' "$max_array_size" >>"$SLURM_CONF"
  fi
}

# Whether the written slurm.conf has the MaxArraySize asked for (none: SLURM's default).
conf_matches() {
  local found
  found="$(sed -n 's/^MaxArraySize=//p' "$SLURM_CONF" 2>/dev/null)"
  [ "$found" = "$max_array_size" ]
}

node="$(hostname -s)"
install_packages

if [ -d "$STATE_DIR" ] && [ -n "$(ls -A "$STATE_DIR")" ]; then
  # Never delete a directory this script did not create (METALAB_SLURM_STATE=$HOME...).
  [ -f "$STATE_DIR/$MARKER" ] \
    || die "$STATE_DIR exists and is not a state directory of this script (no $MARKER); choose another METALAB_SLURM_STATE"
  if cluster_healthy && conf_matches; then
    log "already running (state in $STATE_DIR)"
    printf 'export SLURM_CONF=%s\n' "$SLURM_CONF"
    exit 0
  fi
  if recorded_pid munged >/dev/null || recorded_pid slurmctld >/dev/null \
    || recorded_pid slurmd >/dev/null; then
    log "a cluster recorded in $STATE_DIR is not healthy: stopping it to start afresh"
    "$here/stop.sh"
  fi
  rm -rf "$STATE_DIR"
fi
port_free 6817 slurmctld
port_free 6818 slurmd
mkdir -p "$STATE_DIR"/{ctld,spool,run,log,pids}
touch "$STATE_DIR/$MARKER"
write_conf
printf 'export SLURM_CONF=%s\n' "$SLURM_CONF" >"$STATE_DIR/env"

if munge_works; then
  log "munged is already running (not started here, so stop.sh leaves it alone)"
else
  [ -r /etc/munge/munge.key ] || die "/etc/munge/munge.key is missing (the munge package creates it)"
  install -d -o munge -g munge -m 0755 /run/munge
  start munged setpriv --reuid=munge --regid=munge --init-groups munged --foreground
  wait_until "$wait_limit" "munged to answer" munge_works \
    || fail_with_log munged "munged did not start"
  still_running munged
fi

start slurmctld slurmctld -D -c -f "$SLURM_CONF"
wait_until "$wait_limit" "slurmctld (scontrol ping UP)" ctld_up \
  || fail_with_log slurmctld-internal "slurmctld did not come up"
still_running slurmctld

start slurmd slurmd -D -f "$SLURM_CONF"
wait_until "$wait_limit" "node $node to be idle" node_idle \
  || fail_with_log slurmd-internal "node $node did not become idle: $(sinfo --noheader --nodes="$node" --format='%T %E' 2>&1)"
still_running slurmd

log "cluster up: node $node with $(nproc) CPUs (state in $STATE_DIR)"
printf 'export SLURM_CONF=%s\n' "$SLURM_CONF"
