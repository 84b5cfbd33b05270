#!/bin/bash
# Per-rank phase timers of code trees (git archives on PYTHONPATH, each with a
# sitecustomize.py dropping the editable install's import hook), interleaved,
# NUMBA_NUM_THREADS=1; data sets in $W. Session 17 (h51) ran its own fim_ranks_s17_h51_prof.py
# (the wrap list of h42's fim_ranks_s15_h42_prof.py plus the pair bitmaps), one timed run per
# case; both are now `benchmarks/fim_phases.py --phases ranks`.
#   fim_ranks_s17_h51_prof.sh ROUNDS "TREE..." "RANKS..." "DATA SUPPORT ALGORITHM" ...
P=${VENV:-/work/venvs/h51}/bin
W=${WORK:-/tmp/h51}
phases=$(cd "$(dirname "$0")/.." && pwd)/fim_phases.py
export NUMBA_NUM_THREADS=1
rounds=$1; trees=$2; ns=$3; shift 3; cases=("$@")
for r in $(seq "$rounds"); do for c in "${cases[@]}"; do set -- $c
  for t in $trees; do for n in $ns; do echo "== $(basename "$t") round $r load $(cut -d' ' -f1 /proc/loadavg) $(date +%H:%M:%S)"
  (cd "$W" && PYTHONPATH=$t NUMBA_CACHE_DIR=$W/nc-prof-$(basename "$t") "$P/mpiexec" -n "$n" "$P/python" -m mpi4py "$phases" --phases ranks --runs 1 "$W/$1:$2:$3"); done; done; done; done
