# Helpers for the hpcrec jobscripts, sourced right after the #SBATCH header.
# Site-independent: the module stack and paths of a machine live in sites/SITE.sh.

# A file to create when the job ends, whatever the outcome (JUBE's done_file, workflow tools).
if [ -n "${HPCREC_DONE_FILE:-}" ]; then
    trap 'touch "$HPCREC_DONE_FILE"' EXIT
fi

# Load sites/$1.sh (module stack, virtual environment, HPCREC_DATA_DIR on the scratch file system).
hpcrec_site() {
    local file="$HPCREC_JOBSCRIPTS/sites/$1.sh"
    if [ ! -f "$file" ]; then
        echo "hpcrec: no site file $file (set HPCREC_SITE; see jobscripts/README.md)" >&2
        exit 2
    fi
    # shellcheck disable=SC1090
    . "$file"
}

# One MPI rank per task with SLURM_CPUS_PER_TASK threads each. srun does not inherit
# --cpus-per-task from the allocation (SLURM >= 22.05): SRUN_CPUS_PER_TASK passes it on.
# HPCREC_EXPECT_RANKS makes a launcher/MPI mismatch (ranks started as singletons) an error.
hpcrec_threads() {
    local n="${SLURM_CPUS_PER_TASK:-1}"
    export SRUN_CPUS_PER_TASK="$n" OMP_NUM_THREADS="$n" NUMBA_NUM_THREADS="$n"
    export HPCREC_EXPECT_RANKS="${SLURM_NTASKS:-1}"
}

# Run one job step in the background, so that the batch shell can act on the warning signal
# of "#SBATCH --signal=B:USR1@120" while the step runs: the step's tasks get TERM (training
# then saves a checkpoint and stops), and once the step has ended the job continues later —
# with HPCREC_ON_TIMEOUT=requeue it goes back to the queue (needs --requeue), with =chain a
# successor job is submitted; the next run resumes from the checkpoint. USR1, not TERM: a
# user's scancel also sends TERM, and must end the job, not requeue it. Returns the step's status.
hpcrec_step() {
    "$@" &
    HPCREC_STEP_PID=$!
    local stopped=0 rc
    trap 'stopped=1; hpcrec_stop_step' USR1
    while :; do
        rc=0
        wait "$HPCREC_STEP_PID" || rc=$?
        kill -0 "$HPCREC_STEP_PID" 2>/dev/null || break   # wait was only interrupted by the trap
    done
    trap - USR1
    if [ "$stopped" = 1 ]; then hpcrec_continue_later; fi
    return "$rc"
}

# TERM to the tasks of the running step, not to srun: srun would cancel the step at once
# (and SLURM kill its tasks KillWait seconds later) instead of letting them checkpoint.
hpcrec_stop_step() {
    echo "hpcrec: job ${SLURM_JOB_ID:-?} near its time limit: stopping the step" >&2
    scancel --signal=TERM "${SLURM_JOB_ID:-none}" 2>/dev/null || kill -TERM "$HPCREC_STEP_PID" 2>/dev/null || true
}

hpcrec_continue_later() {
    case "${HPCREC_ON_TIMEOUT:-none}" in
        requeue) scontrol requeue "$SLURM_JOB_ID" ;;
        chain)
            local script
            script="$(scontrol show job "$SLURM_JOB_ID" | sed -n 's/^ *Command=//p')"
            sbatch --dependency="afterany:$SLURM_JOB_ID" "$script" ;;
        none) ;;
        *) echo "hpcrec: HPCREC_ON_TIMEOUT must be requeue, chain or none" >&2 ;;
    esac
}

# How a step starts its ranks: srun, with --kill-on-bad-exit so that a rank dying outside
# Python (e.g. in MPI_Init) ends the step instead of leaving the others waiting until the
# time limit. A site file may set HPCREC_LAUNCHER instead (e.g. the MPI's own mpiexec).
hpcrec_launch() {
    # shellcheck disable=SC2086
    ${HPCREC_LAUNCHER:-srun --kill-on-bad-exit=1} "$@"
}

# The job step: `python -m mpi4py -m hpcrec ARGS` on every rank (-m mpi4py: an exception on
# any rank aborts the whole job). A benchmark driver such as JUBE may set HPCREC_ARGS to run
# another hpcrec command in the same job setup (split on blanks: no blanks inside one argument).
hpcrec_run() {
    if [ -n "${HPCREC_ARGS:-}" ]; then
        # shellcheck disable=SC2086
        set -- $HPCREC_ARGS
    fi
    hpcrec_step hpcrec_launch python -m mpi4py -m hpcrec "$@"
}

# Arguments of `hpcrec train` that resume from checkpoints in $1 when there are any
# (a requeued or chained job), so the same script starts and continues a long training.
hpcrec_resume_args() {
    mkdir -p "$1"
    if [ -n "$(ls -A "$1")" ]; then echo "--resume"; fi
}
