#!/usr/bin/env bash
# Starts a single-node Slurm (munge, slurmctld, slurmd) on this machine, as root, for the tests
# that submit job arrays. Does nothing when `sinfo` already answers. State lives in $1 (default
# /tmp/harmonium-slurm).
set -euo pipefail
if sinfo -h >/dev/null 2>&1; then exit 0; fi
state=${1:-/tmp/harmonium-slurm}
host=$(hostname)
mkdir -p "$state"/{d,ctld,log} /run/munge
chown munge:munge /run/munge
[ -f /etc/munge/munge.key ] || { echo "no /etc/munge/munge.key (apt-get install munge)"; exit 1; }
pgrep -x munged >/dev/null || su -s /bin/sh munge -c munged
cpus=$(nproc)
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 3 / 4 ))
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=local
SlurmctldHost=$host
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
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd
for _ in $(seq 1 30); do
    if sinfo -h -o %t 2>/dev/null | grep -q idle; then exit 0; fi
    sleep 1
done
echo "slurm did not come up; see $state/log"; exit 1
