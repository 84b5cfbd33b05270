#!/bin/bash
# Peak memory per rank of `hpcrec mine` on 1 and 2 ranks (issue 16, "memory that shrinks
# with ranks"): a Quest set (T10I4, 1000 items) is generated once, then each rank count runs
# ROUNDS times, interleaved, every rank under /usr/bin/time -v (its peak RSS). Prints one
# line per run: ranks, wall seconds, per-rank peak MB, the log's phase line, the output's
# md5 (the same for every rank count), and the load before the run.
#   benchmarks/fim_memory.sh [TRANSACTIONS] [SUPPORT] [ALGORITHM] [ROUNDS]
# Environment: HPCREC_BENCH_DATA (default /tmp/hpcrec-bench), PY (default .venv/bin/python).
set -euo pipefail
n=${1:-20000000}; support=${2:-0.001}; algorithm=${3:-fpgrowth}; rounds=${4:-1}
root=$(cd "$(dirname "$0")/.." && pwd)
py=${PY:-$root/.venv/bin/python}
bin=$(dirname "$py")
data=${HPCREC_BENCH_DATA:-/tmp/hpcrec-bench}/quest-t10i4-$n.h5
export NUMBA_NUM_THREADS=1
mkdir -p "$(dirname "$data")"
[[ -f $data ]] || "$bin/hpcrec" generate transactions --rows "$n" --items 1000 --avg-len 10 \
    --pattern-len 4 --seed 0 -o "$data"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin/hpcrec" mine "$data" --min-support 0.5 --quiet -o "$work/warm.csv"   # Numba compiles
for r in $(seq "$rounds"); do
    for p in 1 2; do
        load=$(cut -d' ' -f1 /proc/loadavg)
        rm -f "$work"/time.*
        t0=$(date +%s.%N)
        "$bin/mpiexec" -n "$p" bash -c "/usr/bin/time -v -o $work/time.\$PMI_RANK $py -m mpi4py \
            -m hpcrec mine $data --min-support $support --algorithm $algorithm -o $work/out.csv" \
            > "$work/log" 2>&1
        t1=$(date +%s.%N)
        peaks=$(for f in "$work"/time.*; do awk '/Maximum resident/ {printf "%d ", $6 / 1024}' "$f"; done)
        echo "ranks=$p wall=$(echo "$t1 - $t0" | bc) peak_MB_per_rank=[ $peaks] load_before=$load" \
             "md5=$(md5sum < "$work/out.csv" | cut -c1-12)"
        grep -E "^mine:|rounds here" "$work/log" | sed 's/^/    /'
    done
done
