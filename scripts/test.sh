#!/usr/bin/env bash
# The whole test suite: the lint (ruff, [tool.ruff] in pyproject.toml), serial tests, then
# the MPI tests under 2 and 3 ranks.
# Each run has an overall timeout, so a stuck collective can never hang CI.
set -euo pipefail
. "$(dirname "$0")/env.sh" test
cd "$HPCREC_ROOT"
export NUMBA_ENABLE_CUDASIM="${NUMBA_ENABLE_CUDASIM:-1}"   # GPU kernels run on the simulator
export MPLBACKEND=Agg

run() {  # pytest exit 5 means "no tests collected": not a failure for a filtered run
    local rc=0
    "$@" || rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 5 ]; then echo "FAILED ($rc): $*" >&2; exit "$rc"; fi
}

ruff check --quiet . || { echo "FAILED: ruff check (run 'ruff check --fix' for the import order)" >&2; exit 1; }
run timeout 3000 python -m pytest -q -p no:cacheprovider "$@" tests
for n in 2 3; do
    HPCREC_EXPECT_RANKS=$n run timeout 1200 mpiexec -n "$n" \
        python -m mpi4py -m pytest -q -p no:cacheprovider --with-mpi -m mpi "$@" tests
done
echo "all test runs passed"
