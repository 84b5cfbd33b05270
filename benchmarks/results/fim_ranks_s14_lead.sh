#!/bin/bash
# Whole-process 1 vs 2 ranks on one code tree (a git archive on PYTHONPATH), fresh processes, interleaved.
#   ranks.sh TREE ROUNDS "DATA SUPPORT ALGORITHM" ...
P=/work/main/.venv/bin
export NUMBA_NUM_THREADS=1 NUMBA_CACHE_DIR=/tmp/lead14/nc-ranks
tree=$1; rounds=$2; shift 2; cases=("$@")
cd /tmp/lead14
run() { # n file sup alg out
  /usr/bin/time -f '%e %U %S %M' -o /tmp/lead14/t.txt env PYTHONPATH=$tree \
    $P/mpiexec -n $1 $P/python -m mpi4py -m hpcrec mine $2 --min-support $3 --algorithm $4 -q -o $5 > /tmp/lead14/log.txt 2>&1 || cat /tmp/lead14/log.txt
}
for c in "${cases[@]}"; do set -- $c; run 1 $1 0.9 $3 /tmp/lead14/w.h5; run 2 $1 0.9 $3 /tmp/lead14/w.h5; done  # compile
for round in $(seq $rounds); do for c in "${cases[@]}"; do set -- $c
  for n in 1 2; do load=$(cut -d' ' -f1 /proc/loadavg); rm -f /tmp/lead14/o.h5
    run $n $1 $2 $3 /tmp/lead14/o.h5; read -r wall usr sys rss < /tmp/lead14/t.txt
    sum=$($P/python -c "import h5py,hashlib,sys; f=h5py.File(sys.argv[1]); h=hashlib.md5(); [h.update(f[k][()].tobytes()) for k in ('items','ptr','count')]; print(h.hexdigest()[:12], len(f['count']))" /tmp/lead14/o.h5)
    echo "round $round $(basename $1) $2 $3 ranks $n wall $wall cpu $(echo "$usr + $sys" | bc) maxrss $((rss/1024)) MB md5 $sum load $load $(date +%H:%M:%S)"
  done; done; done
