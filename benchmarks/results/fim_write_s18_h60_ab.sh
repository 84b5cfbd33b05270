#!/bin/bash
# write_itemsets alone, main vs branch alternated: ab_write.sh OUTDIR NSETS RANKS...
# (wtime.py: benchmarks/results/fim_write_s18_h60_wtime.py; the npz from fim_write_s18_h60_dump.py)
out=$1; n=$2; shift 2
P=/work/venvs/h60/bin
for r in "$@"; do for v in main branch main branch; do
  echo "== $v ranks $r load $(cut -d' ' -f1-3 /proc/loadavg) $(date -u +%H:%M:%S)"
  rm -f "$out/w.h5"
  if [ $v = main ]; then
    (cd /tmp/h60/main/cwd && NUMBA_CACHE_DIR=/tmp/h60/nc-main PYTHONPATH=/tmp/h60/main/site:/tmp/h60/main $P/mpiexec -n $r $P/python -m mpi4py /tmp/h60/wtime.py /dev/shm/h60/dm05.npz "$out" $n 4)
  else
    (cd /tmp/h60 && NUMBA_CACHE_DIR=/tmp/h60/nc-br $P/mpiexec -n $r $P/python -m mpi4py /tmp/h60/wtime.py /dev/shm/h60/dm05.npz "$out" $n 4)
  fi
  rm -f "$out/w.h5"
done; done
