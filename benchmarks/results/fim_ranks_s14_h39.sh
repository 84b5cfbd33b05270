#!/bin/bash
# A/B whole process: snapshots (git archive / copies of hpcrec+kernels on PYTHONPATH), fresh processes, interleaved.
#   ab.sh ROUNDS "DATA SUPPORT ALGORITHM code:n code:n ..." ...   (code: a folder /tmp/h39/CODE)
P=/work/venvs/h39/bin
export NUMBA_NUM_THREADS=1
cd /tmp/h39/base/cwd
rounds=$1; shift; cases=("$@")
run() { # code n file sup alg out
  /usr/bin/time -f '%e %M' -o /tmp/h39/t.txt env PYTHONPATH=/tmp/h39/base/site:/tmp/h39/$1 NUMBA_CACHE_DIR=/tmp/h39/nc-$1 \
    $P/mpiexec -n $2 $P/python -m mpi4py -m hpcrec mine $3 --min-support $4 --algorithm $5 -q -o $6 > /tmp/h39/log.txt 2>&1
}
[ -n "$WARM" ] && for c in "${cases[@]}"; do set -- $c; f=$1; s=$2; a=$3; shift 3
  for r in "$@"; do run ${r%:*} ${r#*:} $f $WARM $a /tmp/h39/w.h5; done; done
for round in $(seq $rounds); do for c in "${cases[@]}"; do set -- $c; f=$1; s=$2; a=$3; shift 3
  for r in "$@"; do load=$(cut -d' ' -f1 /proc/loadavg); rm -f /tmp/h39/o.h5
    run ${r%:*} ${r#*:} $f $s $a /tmp/h39/o.h5; read -r wall rss < /tmp/h39/t.txt
    sum=$($P/python -c "import h5py,hashlib,sys; f=h5py.File(sys.argv[1]); h=hashlib.md5(); [h.update(f[k][()].tobytes()) for k in ('items','ptr','count')]; print(h.hexdigest()[:12], len(f['count']))" /tmp/h39/o.h5)
    echo "round $round $(basename $f) $s $a $r $wall s maxrss $((rss/1024)) MB md5 $sum load $load $(date +%H:%M:%S)"
  done; done; done
