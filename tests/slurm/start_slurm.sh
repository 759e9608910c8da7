#!/usr/bin/env bash
# Start a real one-node SLURM (Debian's slurmctld + slurmd + munged) on 127.0.0.1, for the
# tests in tests/slurm. Root only; install the packages first with install_slurm.sh.
# Every daemon writes its pid under $SPYRALFLOW_SLURM_ROOT; stop_slurm.sh stops them by pid.
# Usage: bash tests/slurm/start_slurm.sh     then: source $SPYRALFLOW_SLURM_ROOT/env.sh
set -euo pipefail
root=${SPYRALFLOW_SLURM_ROOT:-/tmp/spyralflow-slurm}
node=$(hostname -s)
started_ns=$(date +%s%N)

for program in slurmctld slurmd sbatch munged; do
    command -v "$program" >/dev/null \
        || { echo "$program is missing: run tests/slurm/install_slurm.sh (as root)" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "the test SLURM runs its daemons as root" >&2; exit 2; }
if [ -s "$root/run/slurmctld.pid" ] && kill -0 "$(cat "$root/run/slurmctld.pid")" 2>/dev/null; then
    echo "the test SLURM in $root is already running: stop it with stop_slurm.sh first" >&2
    exit 3
fi
# slurmctld and slurmd listen on fixed ports (no bind option): one such cluster per machine.
if command -v ss >/dev/null && ss -Hltn '( sport = :6817 or sport = :6818 )' | grep -q .; then
    echo "ports 6817/6818 are taken (another slurmctld/slurmd?): not starting" >&2
    exit 3
fi

mkdir -p "$root"/{etc,state,spool,log,run,munge}
chown munge:munge "$root/munge"
# munged runs as munge and keeps its socket, pid, log and seed there; it refuses a socket
# folder that others cannot enter.
chmod 755 "$root/munge"

# proctrack/cgroup kills every process of a cancelled job; proctrack/linuxproc loses processes
# reparented to init (a cancelled job's inner snakemake survived scancel that way).
if [ -z "${PROCTRACK:-}" ]; then
    if [ -d /sys/fs/cgroup/freezer ]; then PROCTRACK=proctrack/cgroup; else PROCTRACK=proctrack/linuxproc; fi
fi
# The node's memory as slurmd sees it, less a little slack. Its CPUs: at least
# SPYRALFLOW_SLURM_CPUS (default 4), more than a small CI machine has, so that a test's
# three runs are scheduled at once as on a real cluster (config_overrides lets slurmd accept
# it; the jobs then share the cores).
hardware=$(slurmd -C | head -n 1)
memory=$(echo "$hardware" | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
cpus=$(echo "$hardware" | sed -n 's/.* CPUs=\([0-9]*\).*/\1/p')
cpus=$(( cpus > ${SPYRALFLOW_SLURM_CPUS:-4} ? cpus : ${SPYRALFLOW_SLURM_CPUS:-4} ))
node_line="CPUs=$cpus RealMemory=$((memory - 512))"

# Without accounting (no slurmdbd) job records are kept by slurmctld for MinJobAge seconds
# (squeue, scontrol) and in the jobcomp text file. batch_sched_delay=0: jobs start in ~1 s.
cat > "$root/etc/slurm.conf" <<CONF
ClusterName=spyralflow
SlurmctldHost=${node}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
AuthInfo=socket=${root}/munge/munge.socket.2
CredType=cred/munge
StateSaveLocation=${root}/state
SlurmdSpoolDir=${root}/spool/slurmd_%n
SlurmctldPidFile=${root}/run/slurmctld.pid
SlurmdPidFile=${root}/run/slurmd.pid
SlurmctldLogFile=${root}/log/slurmctld.log
SlurmdLogFile=${root}/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=${PROCTRACK}
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=100000
SlurmdParameters=config_overrides
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=${root}/log/jobcomp.txt
MpiDefault=none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
KillWait=5
Waittime=0
DefMemPerCPU=512
NodeName=${node} NodeAddr=127.0.0.1 ${node_line} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
cat > "$root/etc/cgroup.conf" <<CONF
CgroupPlugin=autodetect
CgroupMountpoint=/sys/fs/cgroup
ConstrainCores=no
ConstrainRAMSpace=no
CONF
echo "export SLURM_CONF=$root/etc/slurm.conf" > "$root/env.sh"
export SLURM_CONF=$root/etc/slurm.conf
# Snakemake's slurm-jobstep plugin removes every SLURM_* variable (SLURM_CONF too) before its
# srun inside a job, so srun must find the config at the compiled-in /etc/slurm/slurm.conf.
# A site's own file there is kept aside and put back by stop_slurm.sh.
mkdir -p /etc/slurm
if [ -e /etc/slurm/slurm.conf ] && [ ! -L /etc/slurm/slurm.conf ]; then
    mv /etc/slurm/slurm.conf /etc/slurm/slurm.conf.spyralflow-saved
fi
ln -sfn "$root/etc/slurm.conf" /etc/slurm/slurm.conf

if [ ! -s /etc/munge/munge.key ]; then
    mungekey -c -k /etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
fi
runuser -u munge -- /usr/sbin/munged \
    --socket="$root/munge/munge.socket.2" \
    --pid-file="$root/munge/munged.pid" \
    --log-file="$root/munge/munged.log" \
    --seed-file="$root/munge/munged.seed"
for _ in $(seq 50); do [ -S "$root/munge/munge.socket.2" ] && break; sleep 0.1; done
munge -n -S "$root/munge/munge.socket.2" | unmunge -S "$root/munge/munge.socket.2" >/dev/null

# Both daemons fork into the background and write their pid files. -c: forget old jobs.
/usr/sbin/slurmctld -c -f "$SLURM_CONF"
/usr/sbin/slurmd -f "$SLURM_CONF"

deadline=$(( $(date +%s) + 60 ))
state=
while [ "$(date +%s)" -lt "$deadline" ]; do
    state=$(timeout 5 sinfo --noheader --Node --format=%T 2>/dev/null | head -n 1 || true)
    [ "$state" = idle ] && break
    sleep 0.25
done
if [ "$state" != idle ]; then
    echo "the node did not become idle (state '$state'); see $root/log" >&2
    exit 1
fi
echo "SLURM up in $(( ($(date +%s%N) - started_ns) / 1000000 )) ms: munged $(cat "$root/munge/munged.pid")," \
    "slurmctld $(cat "$root/run/slurmctld.pid"), slurmd $(cat "$root/run/slurmd.pid") (SLURM_CONF=$SLURM_CONF)"
