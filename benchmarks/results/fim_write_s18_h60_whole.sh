#!/bin/bash
# hpcrec mine, whole process from outside (wall, user+sys of all ranks), main vs branch
# alternated: whole.sh "DATA SUPPORT ALGO" ROUNDS RANKS...
set -- "$@"; case=$1; rounds=$2; shift 2; read -r data sup alg <<< "$case"
P=/work/venvs/h60/bin
export NUMBA_NUM_THREADS=1
for k in $(seq "$rounds"); do for r in "$@"; do for v in main branch; do
  rm -f /tmp/h60/o-$v-$r.h5; load=$(cut -d' ' -f1 /proc/loadavg)
  if [ $v = main ]; then cd /tmp/h60/main/cwd; export NUMBA_CACHE_DIR=/tmp/h60/nc-main PYTHONPATH=/tmp/h60/main/site:/tmp/h60/main
  else cd /tmp/h60; export NUMBA_CACHE_DIR=/work/venvs/h60/numba-cache; unset PYTHONPATH; fi
  /usr/bin/time -f "%e %U %S" -o /tmp/h60/time.txt $P/mpiexec -n $r $P/python -m mpi4py -m hpcrec mine /tmp/h60/$data \
    --min-support $sup --algorithm $alg -o /tmp/h60/o-$v-$r.h5 > /tmp/h60/mine.log 2>&1 || cat /tmp/h60/mine.log; wph=$(grep -o "write [0-9.]*s" /tmp/h60/mine.log)
  read -r w u s < /tmp/h60/time.txt
  echo "$v ranks $r $data $sup $alg wall $w cpu $(echo "$u + $s" | bc) load $load $(date -u +%H:%M:%S) $wph md5 $(md5sum < /tmp/h60/o-$v-$r.h5 | cut -c1-12)"
done; done; done
