#!/bin/bash
# (session 15, helper h41; the child was fim_s15_h41_phases.py, there /tmp/h41/prof.py: now benchmarks/fim_phases.py)
# /tmp/h41/ab.sh ROUNDS N CASES... : prof.py, main (git archive in /tmp/h41/base) and this branch alternated
rounds=$1; n=$2; shift 2
source /work/venvs/h41/bin/activate
cd /tmp/h41
for r in $(seq $rounds); do
  echo "# round $r load $(cut -d' ' -f1-3 /proc/loadavg) $(date -u +%H:%M:%S)"
  NUMBA_CACHE_DIR=/tmp/h41/nc-base PYTHONPATH=/tmp/h41/base/site:/tmp/h41/base python prof.py $n "$@" | sed "s/^/main /"
  NUMBA_CACHE_DIR=/tmp/h41/nc-br python prof.py $n "$@" | sed "s/^/br   /"
done
echo "# end load $(cut -d' ' -f1-3 /proc/loadavg) $(date -u +%H:%M:%S)"
