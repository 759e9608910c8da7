#!/usr/bin/env bash
# Stop what start_slurm.sh started, by the pids in its pid files (never by process name):
# cancel leftover jobs, stop slurmd and slurmctld, then munged, and remove the config link.
# Usage: bash tests/slurm/stop_slurm.sh
set -uo pipefail
root=${SPYRALFLOW_SLURM_ROOT:-/tmp/spyralflow-slurm}
export SLURM_CONF=$root/etc/slurm.conf

# Cancel jobs and wait until none is pending, running or completing, so that no job process
# or slurmstepd outlives slurmd.
if [ -s "$root/run/slurmctld.pid" ] && kill -0 "$(cat "$root/run/slurmctld.pid")" 2>/dev/null \
    && timeout 10 scancel --quiet --user="$(id -un)" 2>/dev/null; then
    for _ in $(seq 80); do
        [ -z "$(timeout 5 squeue --noheader --states=PD,R,CG,S 2>/dev/null)" ] && break
        sleep 0.25
    done
fi

# Whether a process runs; an ended one waiting to be reaped by its parent (zombie) does not.
running() {
    [ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" | cut -d ' ' -f 1)" != Z ]
}

# TERM the daemons given as <program>=<pid file>, wait up to 15 s, then KILL what is left. A
# pid whose process is not that program (a stale file, the pid reused since) is left alone.
stop_daemons() {
    local pids=() entry program pid_file pid
    for entry in "$@"; do
        program=${entry%%=*}
        pid_file=${entry#*=}
        [ -s "$pid_file" ] || continue
        pid=$(cat "$pid_file")
        if running "$pid" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$program" ]; then
            kill -TERM "$pid"
            pids+=("$pid")
            echo "stopping $program ($pid)"
        fi
        rm -f "$pid_file"
    done
    [ ${#pids[@]} = 0 ] && return 0
    for _ in $(seq 150); do
        local alive=0
        for pid in "${pids[@]}"; do running "$pid" && alive=1; done
        [ $alive = 0 ] && return 0
        sleep 0.1
    done
    for pid in "${pids[@]}"; do
        if running "$pid"; then echo "killing $pid"; kill -KILL "$pid"; fi
    done
}
slurmd_started=0
[ -s "$root/run/slurmd.pid" ] && slurmd_started=1
stop_daemons slurmd="$root/run/slurmd.pid" slurmctld="$root/run/slurmctld.pid"
stop_daemons munged="$root/munge/munged.pid"

# The (empty) cgroup v1 folders our slurmd made, deepest first.
if [ "$slurmd_started" = 1 ]; then
    for folder in /sys/fs/cgroup/*/slurm_"$(hostname -s)" /sys/fs/cgroup/*/slurm; do
        if [ -d "$folder" ]; then find "$folder" -depth -type d -exec rmdir {} \; 2>/dev/null; fi
    done
fi
if [ "$(readlink /etc/slurm/slurm.conf 2>/dev/null)" = "$root/etc/slurm.conf" ]; then
    rm -f /etc/slurm/slurm.conf
    if [ -e /etc/slurm/slurm.conf.spyralflow-saved ]; then
        mv /etc/slurm/slurm.conf.spyralflow-saved /etc/slurm/slurm.conf
    fi
fi
exit 0
