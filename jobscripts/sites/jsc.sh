# Site "jsc": JUWELS Cluster and Booster, JURECA-DC, JUSUF (Juelich Supercomputing Centre).
# The module stack and the virtual environment are the ones README.md's "HPC route" creates:
# Stages/2025 with the modules' Python, SciPy-bundle, mpi4py (built against ParaStation MPI)
# and h5py, a venv with --system-site-packages in $PROJECT/$USER/hpcrec-venv. Every part is a
# variable with a default: override it in the environment rather than editing this file.
: "${HPCREC_STAGE:=Stages/2025}"
: "${HPCREC_MODULES:=GCC ParaStationMPI Python SciPy-bundle mpi4py h5py}"
: "${HPCREC_GPU_MODULES:=CUDA}"                       # loaded when HPCREC_GPU=1 (booster scripts)
: "${HPCREC_VENV:=${PROJECT:?set PROJECT (jutil env activate -p PROJECT)}/$USER/hpcrec-venv}"
module --force purge
# shellcheck disable=SC2086
module load "$HPCREC_STAGE" $HPCREC_MODULES
if [ "${HPCREC_GPU:-0}" = 1 ]; then
    # shellcheck disable=SC2086
    module load $HPCREC_GPU_MODULES
fi
if [ ! -f "$HPCREC_VENV/bin/activate" ]; then
    echo "hpcrec: no virtual environment in $HPCREC_VENV: create it as README.md's HPC route" \
         "says (or set HPCREC_VENV)" >&2
    exit 2
fi
# shellcheck disable=SC1091
. "$HPCREC_VENV/bin/activate"
# Data and outputs on the parallel scratch file system ($SCRATCH after `jutil env activate`).
export HPCREC_DATA_DIR="${HPCREC_DATA_DIR:-${SCRATCH:?set SCRATCH (jutil env activate -p PROJECT)}/hpcrec}"
export NUMBA_CACHE_DIR="${NUMBA_CACHE_DIR:-$HPCREC_DATA_DIR/numba-cache}"
