# Site "local": this checkout's virtual environment, no modules (scripts/slurm-local.sh, CI).
HPCREC_ROOT="${HPCREC_ROOT:-$(cd "$HPCREC_JOBSCRIPTS/.." && pwd)}"
# shellcheck disable=SC1091
. "${HPCREC_VENV:-$HPCREC_ROOT/.venv}/bin/activate"
export HPCREC_DATA_DIR="${HPCREC_DATA_DIR:-${SCRATCH:-$HPCREC_ROOT/scratch}}"
export NUMBA_CACHE_DIR="${NUMBA_CACHE_DIR:-${VIRTUAL_ENV}/numba-cache}"
# Ranks are started by the MPI's own mpiexec inside the allocation, not by srun: ranks of the
# mpich wheel started by srun (PMI2) failed in MPI_Init in 1 of 3 to 1 of 2 runs on the test
# machine (UCX: "invalid bandwidth 0.00" as in pmodels/mpich#7417, or "Message truncated" in
# MPIDI_UCX_comm_set_vcis; the OFI netmod failed 1 of 8), mpiexec in 0 of 9 — and 0 of
# hundreds outside SLURM. Each rank is pinned to its own SLURM_CPUS_PER_TASK of the CPUs
# this job may use (hydra's user binding; its "core" binding would ignore the job's CPU set),
# as srun pins ranks to their cores on a production site.
hpcrec_local_binding() {
    python - <<'PY'
import os
cpus = sorted(os.sched_getaffinity(0))
per, n = int(os.environ.get("SLURM_CPUS_PER_TASK", "1")), int(os.environ.get("SLURM_NTASKS", "1"))
groups = [cpus[i * per:(i + 1) * per] for i in range(n)]
print("user:" + ",".join("+".join(map(str, g)) for g in groups) if len(cpus) >= per * n else "none")
PY
}
HPCREC_LAUNCHER="${HPCREC_LAUNCHER:-mpiexec -n ${SLURM_NTASKS:-1} -bind-to $(hpcrec_local_binding)}"
