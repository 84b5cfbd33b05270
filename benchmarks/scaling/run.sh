#!/usr/bin/env bash
# The scaling numbers of benchmarks/README.md: prepare the data, run every study here
# (1 and 2 ranks with mpiexec), write one report with the projections.
#   bash benchmarks/scaling/run.sh [STUDY.toml ...]    (default: all studies in this folder)
# Uses the venv of scripts/env.sh ($HPCREC_VENV, default .venv). HPCREC_BENCH_DATA (default
# /tmp/hpcrec-bench) holds the converted and generated data. Records go to
# benchmarks/scaling/results/STUDY/, the report to benchmarks/scaling/report/.
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
[ ${#studies[@]} -gt 0 ] || studies=("$here"/*.toml)
for s in "${studies[@]}"; do
    name="$(basename "$s" .toml)"
    echo "== $name" >&2
    rm -rf "$here/results/$name"/records.* "$here/results/$name"/logs   # weak-scaling data is kept
    hpcrec bench study "$s" -o "$here/results/$name"
done
hpcrec bench report "$here"/results/* -o "$here/report" --project
