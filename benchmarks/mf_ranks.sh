#!/bin/bash
# Whole-process `hpcrec train` (MODEL, default biased-sgd; 64 factors, one thread per rank) on
# 1 and 2 ranks, two code trees interleaved, ROUNDS rounds (default 2): OLD and NEW are virtual
# environments (each an install of one tree, with its own Numba cache under it).
#   OLD=/path/venv-main NEW=/path/venv-branch bash benchmarks/mf_ranks.sh RATINGS.h5 [EPOCHS]
# Prints the load, then per run the `trained ...` line (train, write, comm seconds) and
# /usr/bin/time's wall, user, sys and peak KB (of mpiexec's tree: the largest rank).
set -u
DATA=$(realpath "$1"); EP=${2:-5}
export NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1
OUT=$(mktemp -d); cd "$OUT"   # not a source tree: `python -m hpcrec` would import it from the cwd
for round in $(seq 1 "${ROUNDS:-2}"); do
  for tree in OLD NEW; do
    V=${!tree}
    for P in 1 2; do
      echo "load $(cut -d' ' -f1-3 /proc/loadavg) $(date +%T)"
      NUMBA_CACHE_DIR=$V/numba-cache /usr/bin/time -f "$tree P=$P round=$round wall %e s user %U sys %S maxrss %M KB" \
        "$V/bin/mpiexec" -n $P "$V/bin/python" -m mpi4py -m hpcrec train "$DATA" --model "${MODEL:-biased-sgd}" \
        --factors 64 --epochs "$EP" -o "$OUT/m-$tree-$P.h5" -v 2>&1 | grep -E "wall|trained" | tail -2
    done
  done
done
echo "load $(cut -d' ' -f1-3 /proc/loadavg) $(date +%T)"
rm -rf "$OUT"
