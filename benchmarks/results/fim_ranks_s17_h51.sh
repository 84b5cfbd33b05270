#!/bin/bash
# Whole-process A/B of code trees (git archives on PYTHONPATH) on 1 and 2 ranks, fresh
# processes, interleaved (per round, case, tree: 1 rank then 2), NUMBA_NUM_THREADS=1; as
# fim_ranks_s15_h42.sh, but each rank under /usr/bin/time (its wall, user, sys seconds and
# minor page faults, printed per rank), and run from $W (python -m puts the current folder
# first on the path). VMSTAT=1 adds each run's /proc/vmstat deltas (compact_stall,
# thp_fault_alloc, thp_fault_fallback; machine-wide: read them on a quiet machine only).
# Each tree is byte-compiled first, as an installed package is (`hpcrec warmup` does it too):
# under PYTHONDONTWRITEBYTECODE every rank would compile ~100 sources at each start, 0.15-0.19 s
# of CPU (session 19, h65); runs before session 19 paid that in both trees alike.
#   fim_ranks_s17_h51.sh ROUNDS "TREE..." "DATA SUPPORT ALGORITHM" ...
P=${VENV:-/work/venvs/h51}/bin
W=${WORK:-/tmp/h51}
cd "$W" || exit 1
export NUMBA_NUM_THREADS=1
rounds=$1; trees=$2; shift 2; cases=("$@")
for t in $trees; do "$P/python" -m compileall -q "$t" > /dev/null || exit 1; done
run() { # tree n file sup alg out
  rm -f "$W"/t.txt.*
  /usr/bin/time -f '%e %M' -o "$W/t.txt" env PYTHONPATH="$1" NUMBA_CACHE_DIR="$W/nc-ab-$(basename "$1")" \
    "$P/mpiexec" -n "$2" sh -c 'exec /usr/bin/time -f "%e %U %S %R" -o "$0.$PMI_RANK" "$@"' "$W/t.txt" \
    "$P/python" -m mpi4py -m hpcrec mine "$3" --min-support "$4" --algorithm "$5" -q -o "$6" > "$W/log.txt" 2>&1 || cat "$W/log.txt"
}
vm() { [[ ${VMSTAT:-} ]] && awk '$1 ~ /^(thp_fault_alloc|thp_fault_fallback|compact_stall|pgfault)$/ {printf "%s ", $2}' /proc/vmstat; }
vmdelta() { [[ ${VMSTAT:-} ]] && echo -n " vmstat(compact_stall,thp_fault_alloc,thp_fault_fallback) $(python3 -c "import sys; a=sys.argv[1].split(); b=sys.argv[2].split(); print(*[int(y)-int(x) for x,y in zip(a,b)][1:], sep=',')" "$1" "$2")"; }
for round in $(seq "$rounds"); do for c in "${cases[@]}"; do set -- $c
  for t in $trees; do for n in 1 2; do load=$(cut -d' ' -f1 /proc/loadavg); rm -f "$W/o.h5"; v0=$(vm)
    run "$t" $n "$1" "$2" "$3" "$W/o.h5"; v1=$(vm); read -r wall rss < "$W/t.txt"
    per=$(for r in $(seq 0 $((n - 1))); do read -r w u s f < "$W/t.txt.$r"; echo -n " | rank $r wall $w user $u sys $s faults $f"; done)
    sum=$("$P/python" -c "import h5py,hashlib,sys; f=h5py.File(sys.argv[1]); h=hashlib.md5(); [h.update(f[k][()].tobytes()) for k in ('items','ptr','count')]; print(h.hexdigest()[:12], len(f['count']))" "$W/o.h5")
    echo "round $round $(basename "$t") $(basename "$1") $2 $3 ranks $n wall $wall maxrss $((rss/1024)) MB md5 $sum load $load $(date +%H:%M:%S)$(vmdelta "$v0" "$v1")$per"
  done; done; done; done
