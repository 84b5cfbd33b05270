#!/bin/bash
# MAIN: /tmp/h66/main holds `git archive b986d31 hpcrec kernels` with kernels moved under
# hpcrec (as fim_before_after.sh lays it out), /tmp/h66/site the sitecustomize that drops
# the editable import hook; the branch is the installed (editable) tree.
# ab.sh N SUPPORTS FILE: quick.py (hpcrec vs pyfim in process) per tree, alternated twice
for r in 1 2; do for t in main branch; do
  echo "== $t round $r load $(cut -d' ' -f1 /proc/loadavg) $(date -u +%H:%M:%S)"
  if [ $t = main ]; then NUMBA_CACHE_DIR=/tmp/h66/nc-main PYTHONPATH=/tmp/h66/site:/tmp/h66/main python $(dirname "$0")/fim_s20_h66_vs_pyfim.py $3 $2 $1
  else NUMBA_CACHE_DIR=/tmp/h66/nc python $(dirname "$0")/fim_s20_h66_vs_pyfim.py $3 $2 $1; fi
done; done
