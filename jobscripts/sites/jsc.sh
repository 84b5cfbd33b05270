# Site "jsc": JUWELS Cluster and Booster, JURECA-DC, JUSUF (Juelich Supercomputing Centre).
# Every part of the module stack is a variable with a default: override it in the environment
# (e.g. HPCREC_STAGE=Stages/2025) rather than editing this file.
: "${HPCREC_STAGE:=Stages/2024}"
: "${HPCREC_MODULES:=GCC ParaStationMPI Python SciPy-bundle mpi4py h5py}"
: "${HPCREC_GPU_MODULES:=CUDA}"                       # loaded when HPCREC_GPU=1 (booster scripts)
: "${HPCREC_VENV:=${PROJECT:-$HOME}/hpcrec-venv}"     # venv made with --system-site-packages
module --force purge
# shellcheck disable=SC2086
module load "$HPCREC_STAGE" $HPCREC_MODULES
if [ "${HPCREC_GPU:-0}" = 1 ]; then
    # shellcheck disable=SC2086
    module load $HPCREC_GPU_MODULES
fi
# shellcheck disable=SC1091
. "$HPCREC_VENV/bin/activate"
# Data and outputs on the parallel scratch file system ($SCRATCH after `jutil env activate`).
export HPCREC_DATA_DIR="${HPCREC_DATA_DIR:-${SCRATCH:?set SCRATCH (jutil env activate -p PROJECT)}/hpcrec}"
export NUMBA_CACHE_DIR="${NUMBA_CACHE_DIR:-$HPCREC_DATA_DIR/numba-cache}"
