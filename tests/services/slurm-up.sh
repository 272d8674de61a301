#!/usr/bin/env bash
# Starts a single-node Slurm (munge, slurmctld, slurmd) on this machine, as root, for the tests
# that submit job arrays. Does nothing when the node is already idle. State lives in $1 (default
# /tmp/harmonium-slurm). The controller and the node are addressed as 127.0.0.1, so a hostname
# that does not resolve (none in /etc/hosts, no DNS) still launches jobs: without the address,
# slurmctld allocates the node and then never reaches it, and the jobs sit in R forever.
set -euo pipefail
# Tests run in parallel threads and each may call this: one start-up at a time, the others
# wait and then find the service up. The daemons started here do not inherit the lock (9>&-).
exec 9>/tmp/harmonium-slurm-up.lock
flock 9
state=${1:-/tmp/harmonium-slurm}
host=$(hostname)
# Up when both daemons run and the node is `idle` and responding (`idle*` is a node slurmctld
# cannot reach; slurmctld's view of a slurmd that has just stopped lags by minutes).
up() {
    pgrep -x slurmctld >/dev/null && pgrep -x slurmd >/dev/null &&
        [ "$(sinfo -h -n "$host" -o %t 2>/dev/null)" = idle ]
}
if up; then exit 0; fi
mkdir -p "$state"/{d,ctld,log} /run/munge
chown munge:munge /run/munge
[ -f /etc/munge/munge.key ] || { echo "no /etc/munge/munge.key (apt-get install munge)"; exit 1; }
pgrep -x munged >/dev/null || su -s /bin/sh munge -c munged 9>&-
cpus=$(nproc)
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 3 / 4 ))
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmdSpoolDir=$state/d
StateSaveLocation=$state/ctld
SlurmctldLogFile=$state/log/ctld.log
SlurmdLogFile=$state/log/d.log
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
pgrep -x slurmctld >/dev/null || slurmctld 9>&-
pgrep -x slurmd >/dev/null || slurmd 9>&-
for _ in $(seq 1 60); do
    if up; then exit 0; fi
    sleep 1
done
echo "slurm did not come up: $(sinfo -h -N -o '%N %t %E' 2>&1)"
tail -n 20 "$state"/log/*.log
exit 1
