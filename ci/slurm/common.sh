# shellcheck shell=bash
# Shared by start.sh and stop.sh (sourced, not run): where the cluster's state lives and
# how a recorded daemon is recognised.
#
# A daemon is recorded as "PID STARTTIME" in $STATE_DIR/pids/NAME, STARTTIME being field 22
# of /proc/PID/stat (clock ticks since boot). A PID alone could be reused by an unrelated
# process after the daemon died; the pair cannot, so stop.sh never signals a stranger.

STATE_DIR="${METALAB_SLURM_STATE:-/tmp/metalab-slurm}"
PID_DIR="$STATE_DIR/pids"
export SLURM_CONF="$STATE_DIR/slurm.conf"

log() { printf 'metalab-slurm: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

case "$STATE_DIR" in
  /*) ;;
  *) die "METALAB_SLURM_STATE must be an absolute path, got '$STATE_DIR'" ;;
esac
case "$STATE_DIR" in
  *[[:space:]]*) die "METALAB_SLURM_STATE must not contain whitespace (slurm.conf cannot quote it): '$STATE_DIR'" ;;
esac

# Field 22 of /proc/PID/stat, failing for a process that has exited but not been reaped
# (a zombie keeps its stat file; whether PID 1 reaps orphans depends on the machine).
# The command name (field 2) may contain spaces, so the fields are read after the last ')'.
proc_starttime() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  # shellcheck disable=SC2086  # word splitting into fields is the point
  set -f -- $stat
  set +f
  case "$1" in Z|X|x) return 1 ;; esac
  # Fields start at 3 (state) here, so starttime (field 22) is the 20th word.
  printf '%s\n' "${20}"
}

# record NAME PID: remember a daemon we started.
record() {
  local start
  start="$(proc_starttime "$2")" || die "$1 (PID $2) exited right after starting; see $STATE_DIR/log/$1.log"
  mkdir -p "$PID_DIR"
  printf '%s %s\n' "$2" "$start" > "$PID_DIR/$1"
}

# recorded_pid NAME: print the PID of daemon NAME if we recorded it and it is still that
# same process; fail otherwise.
recorded_pid() {
  local pid start now
  [ -r "$PID_DIR/$1" ] || return 1
  read -r pid start < "$PID_DIR/$1" || return 1
  case "$pid" in ''|*[!0-9]*) return 1 ;; esac
  now="$(proc_starttime "$pid")" || return 1
  [ "$now" = "$start" ] || return 1
  printf '%s\n' "$pid"
}

# wait_until SECONDS DESCRIPTION COMMAND...: poll COMMAND every 0.2 s until it succeeds.
wait_until() {
  local limit="$1" what="$2" deadline
  shift 2
  deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "timed out after ${limit}s waiting for $what"
      return 1
    fi
    sleep 0.2
  done
}
