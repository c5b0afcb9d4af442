#!/usr/bin/env bash
# Stop the daemons ci/slurm/start.sh started, by the PIDs it recorded (never by process
# name), newest first, and wait for each to exit. Jobs still queued on that cluster are
# cancelled first so no job step outlives it. Safe to run twice or with nothing running.
#
# Environment: METALAB_SLURM_STATE (default /tmp/metalab-slurm), METALAB_SLURM_TIMEOUT
# (seconds to wait for each daemon after SIGTERM before SIGKILL, default 30).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$here/common.sh"
wait_limit="${METALAB_SLURM_TIMEOUT:-30}"

if [ ! -d "$PID_DIR" ]; then
  log "nothing recorded in $STATE_DIR: nothing to stop"
  exit 0
fi

# shellcheck disable=SC2317  # called through wait_until
queue_empty() { [ -z "$(timeout 5 squeue --noheader --format=%F)" ]; }
# shellcheck disable=SC2317  # called through wait_until
gone() { ! recorded_pid "$1" >/dev/null; }

if recorded_pid slurmctld >/dev/null && command -v squeue >/dev/null; then
  jobs="$(timeout 10 squeue --noheader --format=%F 2>/dev/null | sort -u | tr '\n' ' ')" || jobs=""
  if [ -n "${jobs// /}" ]; then
    log "cancelling jobs still queued: $jobs"
    # shellcheck disable=SC2086  # one argument per job id
    timeout 10 scancel $jobs || log "scancel failed; stopping anyway"
    wait_until 15 "cancelled jobs to leave the queue" queue_empty || true
  fi
fi

status=0
for name in slurmd slurmctld munged; do
  if pid="$(recorded_pid "$name")"; then
    log "stopping $name (PID $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_until "$wait_limit" "$name (PID $pid) to exit" gone "$name"; then
      log "sending SIGKILL to $name (PID $pid)"
      kill -KILL "$pid" 2>/dev/null || true
      if ! wait_until 10 "$name (PID $pid) to exit after SIGKILL" gone "$name"; then
        status=1
        continue
      fi
    fi
  fi
  rm -f "$PID_DIR/$name"
done
exit "$status"
