#!/bin/bash
# FP-Close 1/2 ranks: base 76ebc30 (before h34's merge) vs main a2044fb, whole process, interleaved
P=/work/main/.venv/bin
export NUMBA_NUM_THREADS=1
cd /tmp/lead13/base/cwd
cases=("/tmp/lead13/retail.h5 0.0001 base:2 new:2" "/tmp/lead13/t10.h5 0.0001 base:2 new:2"
       "/tmp/h34/dc.h5 0.3 base:1 base:2 new:2" "/tmp/h34/dm.h5 0.05 base:1 new:2")
run() { # code n file sup out
  if [ $1 = base ]; then env="PYTHONPATH=/tmp/lead13/base/site:/tmp/lead13/base NUMBA_CACHE_DIR=/tmp/lead13/nc-base"; else env="NUMBA_CACHE_DIR=/tmp/lead13/nc-main"; fi
  /usr/bin/time -f '%e %M' -o /tmp/lead13/t.txt env $env $P/mpiexec -n $2 $P/python -m mpi4py -m hpcrec mine $3 --min-support $4 --algorithm fpclose -q -o $5 > /tmp/lead13/log.txt 2>&1
}
for c in "${cases[@]}"; do set -- $c; for r in base:1 base:2 new:2; do run ${r%:*} ${r#*:} $1 0.9 /tmp/lead13/w.h5; done; done
for round in 1 2; do for c in "${cases[@]}"; do set -- $c; f=$1; s=$2; shift 2
  for r in "$@"; do load=$(cut -d' ' -f1 /proc/loadavg); rm -f /tmp/lead13/o.h5
    run ${r%:*} ${r#*:} $f $s /tmp/lead13/o.h5; read -r wall rss < /tmp/lead13/t.txt
    sum=$($P/python -c "import h5py,hashlib,sys; f=h5py.File(sys.argv[1]); h=hashlib.md5(); [h.update(f[k][()].tobytes()) for k in ('items','ptr','count')]; print(h.hexdigest()[:12], len(f['count']))" /tmp/lead13/o.h5)
    echo "round $round $(basename $f) $s $r $wall s maxrss $((rss/1024)) MB md5 $sum load $load $(date +%H:%M:%S)"
  done; done; done
