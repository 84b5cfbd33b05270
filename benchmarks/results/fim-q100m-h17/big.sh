#!/bin/bash
# 100M whole-process runs: args = list of code:ranks, e.g. base:1 new:2
source /work/venvs/h17/bin/activate
export NUMBA_NUM_THREADS=1
cd /tmp/h17
data=${DATA:-/tmp/s8bench/quest-t10i4-100m.h5}; sup=${SUP:-0.002}
for run in "$@"; do
  code=${run%:*}; p=${run#*:}
  if [[ $code == base ]]; then export PYTHONPATH=/tmp/h17-base NUMBA_CACHE_DIR=/tmp/h17-base.numba; else export PYTHONPATH= NUMBA_CACHE_DIR=/work/venvs/h17/numba-cache; fi
  echo "== $code ranks $p load $(cut -d' ' -f1-3 /proc/loadavg) $(date -u +%T) mem_avail_MB $(awk '/MemAvailable/{print int($2/1024)}' /proc/meminfo)"
  rm -f /tmp/h17/out-$code-$p.h5
  start=$(date +%s.%N)
  mpiexec -n $p /usr/bin/time -f "TIME wall %e user %U sys %S maxrss_kB %M majflt %F" python -m mpi4py -m hpcrec mine $data --min-support $sup -o /tmp/h17/out-$code-$p.h5 > /tmp/h17/log-$code-$p.txt 2>&1
  end=$(date +%s.%N)
  echo "wall_total $(echo "$end - $start" | bc)"
  grep -E "TIME|read [0-9.]*s|rounds here" /tmp/h17/log-$code-$p.txt
  python -c "import h5py,hashlib,sys; f=h5py.File(sys.argv[1]); h=hashlib.md5(); [h.update(f[k][()].tobytes()) for k in ('items','ptr','count')]; print('md5', h.hexdigest()[:12], 'itemsets', len(f['count']))" /tmp/h17/out-$code-$p.h5
done
echo "load end $(cut -d' ' -f1-3 /proc/loadavg) $(date -u +%T)"
