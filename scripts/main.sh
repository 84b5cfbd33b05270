#!/usr/bin/env bash
# The main job on the embedded default data: `hpcrec demo` under 2 MPI ranks.
# Extra arguments go to `hpcrec demo` (e.g. --out DIR, --data-dir ml-100k/).
set -euo pipefail
. "$(dirname "$0")/env.sh" plot
export HPCREC_EXPECT_RANKS="${HPCREC_RANKS:-2}"
exec mpiexec -n "$HPCREC_EXPECT_RANKS" python -m mpi4py -m hpcrec demo "$@"
