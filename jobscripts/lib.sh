# Helpers for the hpcrec jobscripts, sourced right after the #SBATCH header.
# Site-independent: the module stack and paths of a machine live in sites/SITE.sh.

# What identifies this run across requeues and chained successors: checkpoints and outputs
# are keyed by it, never by the job name (a new job must not resume another job's checkpoint).
# $SLURM_JOB_ID survives `scontrol requeue`; a chained successor gets the id passed on.
HPCREC_RUN_ID="${HPCREC_RUN_ID:-${SLURM_JOB_ID:-$$}}"

# A file to create when the job has ended for good, whatever the outcome (JUBE's done_file,
# workflow tools) — not when it goes back to the queue (requeue) or hands over to a chained
# successor, which inherits HPCREC_DONE_FILE and creates it at its own end. TERM (scancel,
# the time limit, a requeue) ends the shell through the EXIT trap, which decides.
hpcrec_ends_for_good() {
    [ "${HPCREC_CONTINUED:-0}" = 1 ] && return 1
    local restarts
    restarts="$(scontrol show job -o "${SLURM_JOB_ID:-none}" 2>/dev/null | tr ' ' '\n' | sed -n 's/^Restarts=//p')"
    ! { [ -n "$restarts" ] && [ "$restarts" -gt "${SLURM_RESTART_COUNT:-0}" ]; }   # requeued: runs again
}
if [ -n "${HPCREC_DONE_FILE:-}" ]; then
    trap 'if hpcrec_ends_for_good; then touch "$HPCREC_DONE_FILE"; fi' EXIT
    trap 'exit 143' TERM
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
# HPCREC_SHOW_LAYOUT=1: every hpcrec command logs where its ranks run (node, cores, GPU).
hpcrec_threads() {
    local n="${SLURM_CPUS_PER_TASK:-1}"
    export SRUN_CPUS_PER_TASK="$n" OMP_NUM_THREADS="$n" NUMBA_NUM_THREADS="$n"
    export HPCREC_EXPECT_RANKS="${SLURM_NTASKS:-1}" HPCREC_SHOW_LAYOUT="${HPCREC_SHOW_LAYOUT:-1}"
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
        requeue) scontrol requeue "$SLURM_JOB_ID" && HPCREC_CONTINUED=1 ;;
        chain) hpcrec_chain && HPCREC_CONTINUED=1 ;;
        none) ;;
        *) echo "hpcrec: HPCREC_ON_TIMEOUT must be requeue, chain or none" >&2 ;;
    esac
}

# Submit the successor of this job: the same script with the same resources (whether they
# came from #SBATCH lines, the sbatch command line or SBATCH_* variables), the same
# environment (--export=ALL from this job's, which holds the submitter's) and this run's id,
# starting once this job has ended.
hpcrec_chain() {
    local script options
    script="$(scontrol show job "$SLURM_JOB_ID" | sed -n 's/^ *Command=//p')"
    mapfile -t options < <(hpcrec_job_options)
    (cd "${SLURM_SUBMIT_DIR:-.}" && sbatch "${options[@]}" --dependency="afterany:$SLURM_JOB_ID" \
        --export="ALL,HPCREC_RUN_ID=$HPCREC_RUN_ID" "$script")
}

# This job's resources as sbatch options, one a line, from `scontrol show job` (values with
# blanks are not supported: none of these has any on a sane setup).
hpcrec_job_options() {
    local -a fields
    local field key value
    read -ra fields <<< "$(scontrol show job -o "$SLURM_JOB_ID")"
    for field in "${fields[@]}"; do
        key="${field%%=*}" value="${field#*=}"
        case "$value" in ""|"(null)"|"*") continue ;; esac
        case "$key" in
            JobName) echo "--job-name=$value" ;;
            Partition) echo "--partition=$value" ;;
            Account) echo "--account=$value" ;;
            QOS) echo "--qos=$value" ;;
            Reservation) echo "--reservation=$value" ;;
            TimeLimit) [ "$value" = UNLIMITED ] || echo "--time=$value" ;;
            NumNodes) echo "--nodes=$value" ;;
            NumTasks) echo "--ntasks=$value" ;;
            CPUs/Task) echo "--cpus-per-task=$value" ;;
            NtasksPerN:B:S:C) [ "${value%%:*}" = 0 ] || echo "--ntasks-per-node=${value%%:*}" ;;
            ReqB:S:C:T) [ "${value##*:}" = "*" ] || echo "--threads-per-core=${value##*:}" ;;
            Features) echo "--constraint=$value" ;;
            TresPerNode) echo "--gres=$(sed 's#gres[:/]##g' <<< "$value")" ;;
            TresPerTask) case "$value" in *gpu:*) echo "--gpus-per-task=${value##*gpu:}" ;; esac ;;
            MinMemoryNode) [ "$value" = 0 ] || echo "--mem=$value" ;;
            MinMemoryCPU) echo "--mem-per-cpu=$value" ;;
            OverSubscribe) [ "$value" != NO ] || echo "--exclusive" ;;
            StdOut) echo "--output=$value" ;;
            StdErr) echo "--error=$value" ;;
            WorkDir) echo "--chdir=$value" ;;
        esac
    done
}

# How a step starts its ranks: srun, with --kill-on-bad-exit so that a rank dying outside
# Python (e.g. in MPI_Init) ends the step instead of leaving the others waiting until the
# time limit. A site file may set HPCREC_LAUNCHER instead (e.g. the MPI's own mpiexec).
hpcrec_launcher() {
    echo "${HPCREC_LAUNCHER:-srun --kill-on-bad-exit=1}"
}
hpcrec_launch() {
    # shellcheck disable=SC2046
    $(hpcrec_launcher) "$@"
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
