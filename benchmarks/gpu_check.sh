#!/usr/bin/env bash
# The GPU device check in one go: real-GPU tests, then the GPU benchmarks (about 5 min on an H100).
#
#   benchmarks/gpu_check.sh [RESULTS_DIR]        (default: $OUT, else ./gpu-results)
#
# Python: $PYTHON if set, else python3 when it already has CuPy, Numba-CUDA and hpcrec's
# dependencies (the lent GPU machines' image, which reaches no package index): hpcrec is
# then installed into it without dependencies. Otherwise a venv ($HPCREC_VENV, default
# .venv-gpu) gets hpcrec[gpu,test] from the package index (CUDA libraries come as wheels:
# only the driver is needed). MovieLens 100K for the SGD parity test: $HPCREC_DATA/ml-100k.
# Writes pytest logs, gpu_bench.json and gpu_bench.md into RESULTS_DIR; exit 1 if anything
# failed.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RESULTS="${1:-${OUT:-$ROOT/gpu-results}}"
mkdir -p "$RESULTS"
cd "$ROOT"
unset NUMBA_ENABLE_CUDASIM            # real kernels, not the simulator
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg
status=0
say() { echo "== $(date +%T) $*" | tee -a "$RESULTS/gpu_check.log"; }
step() {  # step NAME SECONDS CMD...: run with a time limit, log to RESULTS/NAME.log
    local name=$1 limit=$2 rc
    shift 2
    say "$name: $*"
    timeout "$limit" "$@" > >(tee "$RESULTS/$name.log") 2>&1
    rc=$?
    [ $rc -eq 0 ] || [ $rc -eq 5 ] || { say "$name FAILED (exit $rc)"; status=1; }
}

STACK='import cupy, numba.cuda, numpy, scipy, h5py, pandas, pytest
assert cupy.cuda.runtime.getDeviceCount() > 0 and numba.cuda.is_available()'
PY="${PYTHON:-python3}"
if "$PY" -c "$STACK" 2>/dev/null; then
    say "using $("$PY" -c 'import sys; print(sys.executable)') with its own CuPy and Numba-CUDA"
    if ! "$PY" -m pip install -q --no-deps --no-build-isolation -e .; then
        # No index there, and the image's setuptools may be too old for pyproject.toml:
        # import hpcrec from the checkout instead, mapping the two folders it installs under it.
        say "editable install failed: importing hpcrec from the checkout"
        ln -sfn ../kernels hpcrec/kernels && ln -sfn ../jobscripts hpcrec/jobscripts &&
            export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" &&
            "$PY" -c "import hpcrec.kernels" || { say "hpcrec is not importable"; exit 1; }
    fi
else
    VENV="${HPCREC_VENV:-$ROOT/.venv-gpu}"
    say "creating $VENV with hpcrec[gpu,test] from the package index"
    python3 -m venv "$VENV" && PY="$VENV/bin/python" &&
        "$PY" -m pip install -q --upgrade pip && "$PY" -m pip install -q -e ".[gpu,test]" &&
        "$PY" -c "$STACK" || { say "no usable GPU stack: see the messages above"; exit 1; }
fi
if ! "$PY" -c "import numpy; numpy.row_stack" 2>/dev/null; then
    # The lent image pairs numba-cuda 0.30.4 (which still registers np.row_stack) with NumPy
    # 2.5 (which removed it), so no CUDA kernel compiles there (hpcrec[gpu] keeps NumPy below
    # 2.5 for that reason; the image was built otherwise). Restore the alias for this run only.
    SHIM="$(mktemp -d)"
    printf 'import numpy\nnumpy.row_stack = numpy.vstack\n' > "$SHIM/sitecustomize.py"
    export PYTHONPATH="$SHIM${PYTHONPATH:+:$PYTHONPATH}"
    say "NumPy $("$PY" -c 'import numpy; print(numpy.__version__)') lacks row_stack: aliased to vstack for numba-cuda"
fi
if ! "$PY" -c "from mpi4py import MPI" 2>/dev/null; then
    say "mpi4py has no MPI library here: running without MPI"
    export HPCREC_NO_MPI=1
fi
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv \
    2>&1 | tee -a "$RESULTS/gpu_check.log"

# Every test of the GPU files (the simulator tests then run on the GPU, the gpu-marked ones
# too, and the PTX compile check), not `-m gpu tests`: collecting all of tests/ would need
# the CPU peers (mlxtend, Surprise, ...) that a GPU image may lack.
step pytest_gpu 240 "$PY" -m pytest -q -rs -p no:cacheprovider tests/*/test_gpu_*.py tests/core/test_core_device.py
if [ -z "${HPCREC_NO_MPI:-}" ] && command -v mpiexec >/dev/null && "$PY" -c "import pytest_mpi" 2>/dev/null; then
    step pytest_gpu_mpi 120 mpiexec -n 2 "$PY" -m mpi4py -m pytest -q -p no:cacheprovider \
        --with-mpi -m "gpu and mpi" tests/*/test_gpu_*.py
else
    say "skipping the 2-rank GPU test: needs mpiexec, an MPI library and pytest-mpi"
fi
step gpu_bench 360 "$PY" benchmarks/gpu_bench.py --out "$RESULTS"
say "done (status $status); results in $RESULTS"
exit $status
