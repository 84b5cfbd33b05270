#!/usr/bin/env bash
# The scaling numbers of benchmarks/README.md: prepare the data, run the studies (1 and 2
# ranks with mpiexec), write one report with the projections.
#   bash benchmarks/scaling/run.sh                  the small studies in this folder (~2 min)
#   bash benchmarks/scaling/run.sh real             the studies at real size in real/ (100M
#        transactions, 100M ratings: ~6.5 GB of data, up to ~12 GB of memory on one
#        rank, about an hour); not run by default for that reason
#   bash benchmarks/scaling/run.sh STUDY.toml ...   the studies named
# Uses the venv of scripts/env.sh ($HPCREC_VENV, default .venv). HPCREC_BENCH_DATA (default
# /tmp/hpcrec-bench) holds the converted and generated data. Records go to
# benchmarks/scaling/results/STUDY/, the report to benchmarks/scaling/report/.
# Studies in real/ run one point per command, each under `flock $HPCREC_BENCH_LOCK` when
# that is set (a machine shared with other benchmarks: no two measurements overlap).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${HPCREC_VENV:-$root/.venv}"           # made by scripts/env.sh (matplotlib for the plots)
hpcrec() { "$venv/bin/python" -m hpcrec "$@"; }
export HPCREC_BENCH_DATA="${HPCREC_BENCH_DATA:-/tmp/hpcrec-bench}"
shared="${HPCREC_DATA:-$root/../shared/data}"
mkdir -p "$HPCREC_BENCH_DATA" "$here/results"
d="$HPCREC_BENCH_DATA"
[ -f "$d/T10I4D100K.h5" ] || hpcrec convert "$shared/fim/T10I4D100K.dat" -o "$d/T10I4D100K.h5"
[ -f "$d/ml-100k.h5" ] || hpcrec convert "$shared/ml-100k/u.data" -o "$d/ml-100k.h5"
[ -f "$d/synthetic-10m.h5" ] || hpcrec generate ratings --rows 69878 --items 10677 \
    --nnz 10000000 --seed 0 -o "$d/synthetic-10m.h5"
studies=("$@")
if [ "${studies[*]:-}" = real ]; then
    # Netflix shape: 480,189 users x 17,770 items; both generated chunk by chunk
    for n in 100m:100000000; do
        [ -f "$d/quest-t10i4-${n%%:*}.h5" ] || hpcrec generate transactions --rows "${n#*:}" \
            --items 1000 --avg-len 10 --pattern-len 4 --seed 0 -o "$d/quest-t10i4-${n%%:*}.h5"
    done
    [ -f "$d/netflix-shape-100m.h5" ] || hpcrec generate ratings --rows 480189 --items 17770 \
        --nnz 100000000 --seed 0 -o "$d/netflix-shape-100m.h5"
    # compile every kernel the studies use into Numba's on-disk cache (they run without warm-up)
    warm="$(mktemp -d)"
    for p in 1 2; do
        for a in fpgrowth apriori; do
            "$venv/bin/mpiexec" -n "$p" "$venv/bin/python" -m mpi4py -m hpcrec bench run mine \
                --input "$d/T10I4D100K.h5" --min-support 0.01 --algorithm "$a" -r "$warm/r.jsonl" > /dev/null
        done
        for m in biased-sgd als; do
            "$venv/bin/mpiexec" -n "$p" "$venv/bin/python" -m mpi4py -m hpcrec bench run train \
                --input "$d/ml-100k.h5" --model "$m" --epochs 2 -r "$warm/r.jsonl" > /dev/null
        done
    done
    rm -rf "$warm"
    for s in "$here"/real/*.toml; do
        name="$(basename "$s" .toml)"
        rm -rf "$here/results/real-$name"
        for p in 1 2; do
            echo "== $name, $p rank(s)" >&2
            ${HPCREC_BENCH_LOCK:+flock "$HPCREC_BENCH_LOCK"} "$venv/bin/python" -m hpcrec \
                bench study "$s" --ranks "$p" -o "$here/results/real-$name"
        done
    done
else
    [ ${#studies[@]} -gt 0 ] || studies=("$here"/*.toml)
    for s in "${studies[@]}"; do
        name="$(basename "$s" .toml)"
        echo "== $name" >&2
        rm -rf "$here/results/$name"/records.* "$here/results/$name"/logs   # weak-scaling data is kept
        hpcrec bench study "$s" -o "$here/results/$name"
    done
fi
hpcrec bench report "$here"/results/* -o "$here/report" --project
