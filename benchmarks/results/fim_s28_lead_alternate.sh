#!/bin/bash
# Session 28, lead: a base commit and this tree alternated, one fresh process each
# (fim_s28_lead_call.py), ROUNDS times, on RANKS ranks; records in fim_s28_lead_alternate.txt.
#   bash benchmarks/results/fim_s28_lead_alternate.sh BASE RANKS DATA SUPPORT ALGORITHM ROUNDS
set -euo pipefail
base=$1; ranks=$2; data=$3; support=$4; algorithm=$5; rounds=$6
root=$(cd "$(dirname "$0")/../.." && pwd)
old=$(mktemp -d)
trap 'rm -rf "$old"' EXIT
git -C "$root" archive "$base" hpcrec kernels | tar -x -C "$old"
mv "$old/kernels" "$old/hpcrec/kernels"
mkdir "$old/site"   # an editable install's import hook would win over PYTHONPATH
echo 'import sys; sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]' \
    > "$old/site/sitecustomize.py"
call=("$root/benchmarks/results/fim_s28_lead_call.py" "$data" "$support" "$algorithm")
launch=(python); [[ $ranks -gt 1 ]] && launch=(mpiexec -n "$ranks" python)
export NUMPY_MADVISE_HUGEPAGE=0
for _ in $(seq "$rounds"); do
    PYTHONPATH="$old/site:$old" NUMBA_CACHE_DIR="$old/nc" "${launch[@]}" "${call[@]}" | sort | head -1 | sed "s/^/base /"
    "${launch[@]}" "${call[@]}" | sort | head -1 | sed "s/^/new /"
done
