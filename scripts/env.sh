# Source me: create or reuse the project's virtual environment and install hpcrec into it.
# HPCREC_VENV picks the folder (default .venv in the repository). With HPCREC_SITE_MPI=1 (a
# cluster, after loading the site's modules: README.md, "HPC route") the venv sees the
# modules' packages (--system-site-packages): mpi4py is the site's, built against its MPI;
# the MPICH wheel is never installed, and mpi4py is never taken as a binary wheel.
# Sourced into an interactive shell it changes no shell options (no `set -e`): every step
# checks its own result and a failure returns non-zero, leaving the shell as it was.
HPCREC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HPCREC_VENV="${HPCREC_VENV:-$HPCREC_ROOT/.venv}"
hpcrec_env_setup() {
    local extras="${1:-}" stamp
    if [ -z "$extras" ]; then
        echo "usage: . scripts/env.sh EXTRAS (e.g. test, plot, bench)" >&2
        return 2
    fi
    local site=()
    if [ "${HPCREC_SITE_MPI:-0}" = 1 ]; then site=(--system-site-packages); fi
    if [ ! -x "$HPCREC_VENV/bin/python" ]; then
        python3 -m venv "${site[@]}" "$HPCREC_VENV" || return 1
    fi
    # shellcheck disable=SC1091
    . "$HPCREC_VENV/bin/activate" || return 1
    stamp="$HPCREC_VENV/.hpcrec-installed-$extras"
    if [ ! -f "$stamp" ] || [ "$HPCREC_ROOT/pyproject.toml" -nt "$stamp" ]; then
        python -m pip install -q --upgrade pip || return 1
        # Laptop/CI: the MPICH wheel and a binary mpi4py (never built here: against which MPI?).
        # Site: the module's mpi4py; were it missing, pip builds it against the loaded MPI.
        local mpi=(--only-binary=mpi4py)
        if [ "${#site[@]}" = 0 ]; then extras="$extras,mpi-wheel"; else mpi=(--no-binary=mpi4py); fi
        python -m pip install -q "${mpi[@]}" -e "$HPCREC_ROOT[$extras]" || return 1
        touch "$stamp"
    fi
    export NUMBA_CACHE_DIR="${NUMBA_CACHE_DIR:-$HPCREC_VENV/numba-cache}"
}
hpcrec_env_setup "$@"
