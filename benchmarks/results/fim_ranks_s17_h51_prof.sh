#!/bin/bash
# Per-rank phase timers (fim_ranks_s17_h51_prof.py) of code trees (git archives on
# PYTHONPATH, each with a sitecustomize.py dropping the editable install's import hook),
# interleaved, NUMBA_NUM_THREADS=1; data sets in $W.
#   fim_ranks_s17_h51_prof.sh ROUNDS "TREE..." "RANKS..." "DATA SUPPORT ALGORITHM" ...
P=${VENV:-/work/venvs/h51}/bin
W=${WORK:-/tmp/h51}
here=$(cd "$(dirname "$0")" && pwd)
export NUMBA_NUM_THREADS=1
rounds=$1; trees=$2; ns=$3; shift 3; cases=("$@")
for r in $(seq "$rounds"); do for c in "${cases[@]}"; do set -- $c
  for t in $trees; do for n in $ns; do echo "== $(basename "$t") round $r load $(cut -d' ' -f1 /proc/loadavg) $(date +%H:%M:%S)"
  (cd "$W" && PYTHONPATH=$t NUMBA_CACHE_DIR=$W/nc-prof-$(basename "$t") "$P/mpiexec" -n "$n" "$P/python" -m mpi4py "$here/fim_ranks_s17_h51_prof.py" "$W/$1" "$2" "$3"); done; done; done; done
