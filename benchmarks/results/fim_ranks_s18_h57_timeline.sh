#!/bin/bash
# fim_ranks_s18_h57_timeline.py's time lines of one tree, 1 then 2 ranks per case, fresh
# processes, from $W, NUMBA_NUM_THREADS=1; with the run's wall from outside and the huge
# pages faulted in (machine-wide /proc/vmstat thp_fault_alloc delta: quiet machine only).
#   fim_ranks_s18_h57_timeline.sh TREE "DATA SUPPORT ALGORITHM" ...
P=${VENV:-/work/venvs/h57}/bin
W=${WORK:-/tmp/h57}
S=$(cd "$(dirname "$0")" && pwd)/fim_ranks_s18_h57_timeline.py
cd "$W" || exit 1
export NUMBA_NUM_THREADS=1
tree=$1; shift
thp() { awk '$1 == "thp_fault_alloc" {print $2}' /proc/vmstat; }
for c in "$@"; do set -- $c
  for n in ${RANKS:-1 2}; do rm -f "$W/o.h5"; h0=$(thp); t0=$(date +%s.%N); load=$(cut -d' ' -f1 /proc/loadavg)
    PYTHONPATH="$tree" NUMBA_CACHE_DIR="$W/nc-ab-$(basename "$tree")" "$P/mpiexec" -n "$n" \
      "$P/python" -m mpi4py "$S" mine "$1" --min-support "$2" --algorithm "$3" -q -o "$W/o.h5" > "$W/tl.txt" 2>&1
    t1=$(date +%s.%N)
    echo "== $(basename "$tree") $1 $2 $3 ranks $n wall $(echo "$t1 - $t0" | bc) from $t0 to $t1 thp $(( $(thp) - h0 )) load $load $(date +%H:%M:%S)"
    cat "$W/tl.txt"
  done
done
