#!/bin/bash
# Before/after of the recommender kernels on the same machine in one run (issue 13's kernel
# seam): SGD and ALS (benchmarks/mf_bench.py on MovieLens 100K fold u1, hpcrec's models
# only) and item k-NN (benchmarks/knn_bench.py's ml100k child: 5 folds, fit and predict),
# for a base commit (a `git archive` of it on PYTHONPATH) and this tree, interleaved round
# by round so load changes hit both alike. One thread per process (NUMBA_NUM_THREADS=1,
# overridable): the per-core speed, steadier on a shared machine. Prints one JSON line per
# run and the load before each round. FP mining: benchmarks/fim_before_after.sh.
#   benchmarks/kernels_before_after.sh BASE_COMMIT [ROUNDS]
set -euo pipefail
base=${1:?base commit}; rounds=${2:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
py="$root/.venv/bin/python"
data="${HPCREC_DATA:-$root/../shared/data}/ml-100k"
old=$(mktemp -d)
trap 'rm -rf "$old"' EXIT
git -C "$root" archive "$base" hpcrec kernels | tar -x -C "$old"
mv "$old/kernels" "$old/hpcrec/kernels"
export NUMBA_NUM_THREADS="${NUMBA_NUM_THREADS:-1}" OPENBLAS_NUM_THREADS=1
run() {  # variant script args...
    local variant=$1 script=$2
    shift 2
    if [[ $variant == before ]]; then
        PYTHONPATH="$old" "$py" "$root/benchmarks/$script" "$@"
    else
        "$py" "$root/benchmarks/$script" "$@"
    fi 2>/dev/null | grep '^{' | sed "s/^{/{\"variant\": \"$variant\", \"bench\": \"$script\", /"
}
for r in $(seq "$rounds"); do
    echo "# round $r: $(uptime)"
    for v in before after; do run "$v" mf_bench.py "$data" --folds u1 --no-peers; done
    for v in before after; do run "$v" knn_bench.py child ml100k hpcrec default "$data" 1; done
done
