#!/bin/bash
# Whole-process `hpcrec mine` on 1 and 2 ranks (issue 15: 2 ranks >= 1.7x one rank on the
# dense sets), optionally against an older checkout on one rank, interleaved per case:
# for each algorithm, [old 1 rank,] 1 rank, 2 ranks; ROUNDS times. One thread per rank.
# Prints one line per run: round, case, code, ranks, wall seconds, peak RSS (the largest
# process), the log's phase line, the output's md5 (equal for every rank count and code),
# and the load before the run. The timed runs log (no -q; to a file) for their phase line.
#   benchmarks/fim_ranks.sh DATA SUPPORT ROUNDS ALGORITHM...
# Environment: PY (default .venv/bin/python); OLD: a folder holding an older tree with
# kernels/ copied to hpcrec/kernels (run with PYTHONPATH=OLD), none by default.
set -euo pipefail
data=$1; support=$2; rounds=$3; shift 3
root=$(cd "$(dirname "$0")/.." && pwd)
py=${PY:-$root/.venv/bin/python}
export NUMBA_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
old=(PYTHONPATH="${OLD:-}" NUMBA_CACHE_DIR="${OLD:-}.numba")
for a in "$@"; do   # compile every kernel once, outside the timing (2 ranks: the merge)
    "$py" -m hpcrec mine "$data" --min-support 0.9 --algorithm "$a" -q -o "$work/warm.h5"
    mpiexec -n 2 "$py" -m mpi4py -m hpcrec mine "$data" --min-support 0.9 --algorithm "$a" \
        -q -o "$work/warm.h5"
    [[ -z ${OLD:-} ]] || env "${old[@]}" "$py" -m hpcrec mine "$data" --min-support 0.9 \
        --algorithm "$a" -q -o "$work/warm.h5"
done
for r in $(seq "$rounds"); do
    for a in "$@"; do
        for run in ${OLD:+old:1} new:1 new:2; do
            code=${run%:*}; p=${run#*:}
            extra=()
            [[ $code == old ]] && extra=("${old[@]}")
            load=$(cut -d' ' -f1 /proc/loadavg)
            rm -f "$work/out.h5"
            /usr/bin/time -f '%e %M' -o "$work/time" env "${extra[@]}" mpiexec -n "$p" "$py" \
                -m mpi4py -m hpcrec mine "$data" --min-support "$support" --algorithm "$a" \
                -o "$work/out.h5" > "$work/log" 2>&1
            read -r wall rss < "$work/time"
            phases=$(grep -o 'read [0-9.]*s.*' "$work/log" | tail -1)
            sum=$("$py" -c "import h5py,hashlib,sys; f=h5py.File(sys.argv[1]); h=hashlib.md5(); \
[h.update(f[k][()].tobytes()) for k in ('items','ptr','count')]; print(h.hexdigest()[:12])" \
                "$work/out.h5")
            echo "round $r $(basename "$data" .h5) $support $a $code n=$p ${wall} s maxrss $((rss / 1024)) MB [$phases] md5 $sum load $load"
        done
    done
done
