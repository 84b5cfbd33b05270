#!/bin/bash
# MAIN: /tmp/h66/main holds `git archive b986d31 hpcrec kernels` with kernels moved under
# hpcrec (as fim_before_after.sh lays it out), /tmp/h66/site the sitecustomize that drops
# the editable import hook; the branch is the installed (editable) tree.
# calls.sh ROUNDS N CASE...: calls.py per tree, alternated (main first in odd rounds)
. /work/venvs/h66/bin/activate
rounds=$1; n=$2; shift 2
for r in $(seq $rounds); do
  order="main branch"; [ $((r % 2)) = 0 ] && order="branch main"
  echo "# round $r load $(cut -d' ' -f1-3 /proc/loadavg) $(date -u +%H:%M:%S)"
  for t in $order; do
    if [ $t = main ]; then NUMBA_CACHE_DIR=/tmp/h66/nc-main PYTHONPATH=/tmp/h66/site:/tmp/h66/main python $(dirname "$0")/fim_s20_h66_calls.py $n "$@"
    else NUMBA_CACHE_DIR=/tmp/h66/nc python $(dirname "$0")/fim_s20_h66_calls.py $n "$@"; fi
  done
done
