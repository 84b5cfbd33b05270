#!/bin/bash
# Whole-process A/B of code trees (git archives on PYTHONPATH) on 1 and 2 ranks, fresh
# processes, interleaved (per round, case, tree: 1 rank then 2), NUMBA_NUM_THREADS=1.
#   fim_ranks_s15_h42.sh ROUNDS "TREE..." "DATA SUPPORT ALGORITHM" ...
# (compile first: WARM=1 runs every case once at support 0.9 and prints nothing)
P=${VENV:-/work/venvs/h42}/bin
W=${WORK:-/tmp/h42}
export NUMBA_NUM_THREADS=1
rounds=$1; trees=$2; shift 2; cases=("$@")
run() { # tree n file sup alg out
  /usr/bin/time -f '%e %U %S %M' -o $W/t.txt env PYTHONPATH=$1 NUMBA_CACHE_DIR=$W/nc-ab-$(basename $1) \
    $P/mpiexec -n $2 $P/python -m mpi4py -m hpcrec mine $3 --min-support $4 --algorithm $5 -q -o $6 > $W/log.txt 2>&1 || cat $W/log.txt
}
if [ -n "$WARM" ]; then
  for c in "${cases[@]}"; do set -- $c; for t in $trees; do for n in 1 2; do run $t $n $1 0.9 $3 $W/w.h5; run $t $n $1 $2 $3 $W/w.h5; done; done; done
  exit
fi
for round in $(seq $rounds); do for c in "${cases[@]}"; do set -- $c
  for t in $trees; do for n in 1 2; do load=$(cut -d' ' -f1 /proc/loadavg); rm -f $W/o.h5
    run $t $n $1 $2 $3 $W/o.h5; read -r wall usr sys rss < $W/t.txt
    sum=$($P/python -c "import h5py,hashlib,sys; f=h5py.File(sys.argv[1]); h=hashlib.md5(); [h.update(f[k][()].tobytes()) for k in ('items','ptr','count')]; print(h.hexdigest()[:12], len(f['count']))" $W/o.h5)
    echo "round $round $(basename $t) $(basename $1) $2 $3 ranks $n wall $wall cpu $(echo "$usr + $sys" | bc) maxrss $((rss/1024)) MB md5 $sum load $load $(date +%H:%M:%S)"
  done; done; done; done
