#!/usr/bin/env bash
# A single-node SLURM on this machine, for CI and for trying the jobscripts on a laptop.
#   scripts/slurm-local.sh start   install (Debian/Ubuntu, as root) and start munged, slurmctld, slurmd
#   scripts/slurm-local.sh stop    stop the daemons this script started (by their PID files)
#   scripts/slurm-local.sh status  sinfo
# State, configuration, logs and the munge key and socket live in $HPCREC_SLURM_DIR (default
# /tmp/hpcrec-slurm); the controller and node daemon listen on free ports picked at start
# (or $HPCREC_SLURMCTLD_PORT, $HPCREC_SLURMD_PORT), so several instances with different
# folders run side by side on one host (e.g. two CI jobs); starting in a folder whose
# instance runs is refused.
# Partition "local" (default) with all CPUs of this machine, and "extra" on the same node
# with node feature "hpcrec" (to test that jobs keep non-default options); a request larger
# than the node is refused at submission (EnforcePartLimits=ALL); MpiDefault=pmi2, so a plain
# `srun` can start ranks of mpi4py built on the MPICH wheel (the jobscripts' site "local" uses
# the wheel's mpiexec instead: see jobscripts/README.md). Every wait is bounded.
set -euo pipefail
DIR="$(realpath -m "${HPCREC_SLURM_DIR:-/tmp/hpcrec-slurm}")"
CONF="$DIR/etc/slurm.conf"
PACKAGES="slurmctld slurmd slurm-client munge"

die() { echo "slurm-local: $*" >&2; exit 1; }

install_packages() {
    command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null \
        && command -v munged >/dev/null && return 0
    [ "$(id -u)" = 0 ] || die "SLURM is not installed and installing needs root ($PACKAGES)"
    command -v apt-get >/dev/null || die "SLURM is not installed and there is no apt-get to install it"
    echo "slurm-local: installing $PACKAGES" >&2
    export DEBIAN_FRONTEND=noninteractive
    timeout 180 apt-get update -qq >/dev/null
    # policy-rc.d may refuse to start services at install time: we start them ourselves.
    timeout 240 apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
}

free_port() {  # a TCP port nobody listens on now (the kernel's choice)
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

write_config() {
    local host cpus ctld_port slurmd_port
    host="$(hostname -s)"
    cpus="$(nproc --all)"
    ctld_port="${HPCREC_SLURMCTLD_PORT:-$(free_port)}"
    slurmd_port="${HPCREC_SLURMD_PORT:-$(free_port)}"
    [ "$ctld_port" != "$slurmd_port" ] || die "controller and node daemon need two different ports"
    rm -rf "$DIR/state" "$DIR/spool"   # a fresh controller: no jobs left from an earlier run
    mkdir -p "$DIR/etc" "$DIR/state" "$DIR/spool" "$DIR/log" "$DIR/run"
    cat > "$CONF" <<EOF
ClusterName=hpcrec-local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/run/munge.socket,cred_expire=10
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmi2
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=2
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
InactiveLimit=0
KillWait=5
MinJobAge=300
EnforcePartLimits=ALL
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus Feature=hpcrec State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
PartitionName=extra Nodes=$host Default=NO MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
}

start_munge() {  # this instance's own munged: own key, socket, PID, log and seed files
    local key="$DIR/etc/munge.key"
    if [ ! -s "$key" ]; then
        dd if=/dev/urandom of="$key" bs=1024 count=1 status=none
    fi
    chmod 400 "$key"
    # As root, like the other daemons here (--force: accept root and a stale socket file).
    munged --force --key-file="$key" --socket="$DIR/run/munge.socket" \
        --pid-file="$DIR/run/munged.pid" --log-file="$DIR/log/munged.log" \
        --seed-file="$DIR/run/munged.seed" 2>>"$DIR/log/munged.stderr"
}

wait_ready() {  # until sinfo shows the node idle, at most $1 seconds
    local deadline=$((SECONDS + $1))
    while [ $SECONDS -lt $deadline ]; do
        if SLURM_CONF="$CONF" timeout 5 sinfo -h -o %t 2>/dev/null | grep -q '^idle'; then
            return 0
        fi
        sleep 0.5
    done
    echo "slurm-local: not ready after $1 s; last log lines:" >&2
    tail -n 5 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" >&2 2>/dev/null || true
    return 1
}

start() {
    install_packages
    [ "$(id -u)" = 0 ] || die "the daemons run as root here (SlurmUser=root): run as root"
    if [ -f "$DIR/run/slurmctld.pid" ] && kill -0 "$(cat "$DIR/run/slurmctld.pid")" 2>/dev/null; then
        die "an instance already runs in $DIR (stop it first, or set HPCREC_SLURM_DIR to another folder)"
    fi
    stop   # daemons left behind by an instance whose controller died
    write_config
    start_munge
    export SLURM_CONF="$CONF"
    slurmctld -f "$CONF"
    slurmd -f "$CONF"
    wait_ready "${HPCREC_SLURM_START_TIMEOUT:-60}" || { stop; die "SLURM did not come up"; }
    echo "export SLURM_CONF=$CONF"
}

stop() {
    local name pid
    if [ -f "$DIR/run/slurmctld.pid" ] && kill -0 "$(cat "$DIR/run/slurmctld.pid")" 2>/dev/null; then
        SLURM_CONF="$CONF" timeout 10 scancel --user="$(id -un)" 2>/dev/null || true   # no orphaned steps
        sleep 1
    fi
    for name in slurmd slurmctld munged; do
        [ -f "$DIR/run/$name.pid" ] || continue
        pid="$(cat "$DIR/run/$name.pid")"
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
        fi
        rm -f "$DIR/run/$name.pid"
    done
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) SLURM_CONF="$CONF" timeout 10 sinfo ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
