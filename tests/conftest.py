"""Shared test fixtures.

* ``shared_data`` — path of the shared data folder (``../shared/data`` next to the repository,
  or ``$HPCREC_DATA``); skips the test with a clear reason when it is absent.
* ``run_cli(*args, env=None, cwd=None, timeout=120)`` — runs ``python -m hpcrec ARGS`` in a
  fresh process and returns ``(rc, stdout, stderr)``.
* ``mpirun(n, *args, env=None, cwd=None, timeout=120)`` — runs
  ``mpiexec -n N python -m mpi4py -m hpcrec ARGS`` and returns ``(rc, stdout, stderr)``.
* ``device`` — each test that takes it runs twice: on ``"cpu"`` and on ``"gpu"``, the latter
  simulated where no GPU is (:func:`helpers.simulate_gpu`).
* ``cli_main(*args)`` — calls ``hpcrec.cli.main(ARGS)`` in this process (no interpreter
  start-up: use it for many small cases) and returns ``(rc, stdout, stderr)``; the logging
  set-up that ``main`` installs is undone afterwards, so later tests log normally.

Both runners start from a clean environment: variables of an enclosing MPI job (PMI_*,
HYDRA_*, ...) and hpcrec's own switches (HPCREC_FAIL, HPCREC_EXPECT_RANKS, ...) are removed,
so they work the same from a serial pytest and from inside ``mpiexec ... pytest``; pass
``env={...}`` to set variables for the child. On timeout the whole process group is killed
and the test fails with the command and whatever it printed — a hang never stalls the suite.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Numba's on-disk cache stays out of the source tree for a plain `pytest` too (scripts/test.sh
# puts it in the venv); set before any test module imports Numba, inherited by child runs.
os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(tempfile.gettempdir()) /
                                             f"hpcrec-test-numba-cache-{os.getuid()}"))
MPIEXEC = Path(sys.executable).with_name("mpiexec")

_ENV_PREFIXES = ("PMI_", "PMIX_", "HYDRA_", "MPIR_", "MPI_LOCAL", "OMPI_", "HPCREC_")


def shared_data_dir() -> Path:
    """The shared data folder (may not exist): $HPCREC_DATA, else ../shared/data."""
    override = os.environ.get("HPCREC_DATA")
    return Path(override) if override else REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of the shared data folder (fim/, ml-100k/); skips when it is absent."""
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"shared data folder {path} not found (set HPCREC_DATA to its location)")
    return path


def child_env(extra: dict | None = None) -> dict:
    """os.environ without MPI-job and hpcrec variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_ENV_PREFIXES)}
    env["PYTHONUNBUFFERED"] = "1"
    env.update({k: str(v) for k, v in (extra or {}).items()})
    return env


def run_command(cmd: list, env: dict | None = None, cwd=None, timeout: float = 120):
    """Run ``cmd`` (own process group) and return (rc, stdout, stderr); fail on timeout."""
    proc = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=child_env(env), cwd=cwd, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"timed out after {timeout}s: {' '.join(map(str, cmd))}\n"
                    f"stdout:\n{out}\nstderr:\n{err}")
    return proc.returncode, out, err


@pytest.fixture
def run_cli():
    """``run_cli(*args, env=None, cwd=None, timeout=120) -> (rc, stdout, stderr)``."""
    def run(*args, env=None, cwd=None, timeout=120):
        return run_command([sys.executable, "-m", "hpcrec", *args], env, cwd, timeout)
    return run


@pytest.fixture
def mpirun():
    """``mpirun(n, *args, env=None, cwd=None, timeout=120) -> (rc, stdout, stderr)``."""
    if not MPIEXEC.exists():
        pytest.skip(f"no mpiexec next to {sys.executable}")

    def run(n, *args, env=None, cwd=None, timeout=120):
        cmd = [MPIEXEC, "-n", n, sys.executable, "-m", "mpi4py", "-m", "hpcrec", *args]
        return run_command(cmd, env, cwd, timeout)
    return run


@pytest.fixture
def cli_main(capsys):
    """``cli_main(*args) -> (rc, stdout, stderr)``: ``hpcrec.cli.main`` in-process."""
    from hpcrec import cli
    root = logging.getLogger()
    saved = root.handlers[:], root.level, warnings.formatwarning

    def run(*args):
        capsys.readouterr()
        try:
            rc = cli.main([str(a) for a in args])
        finally:   # main() points logging at the captured stderr: put the old set-up back
            root.handlers[:] = saved[0]
            root.setLevel(saved[1])
            logging.captureWarnings(False)
            warnings.formatwarning = saved[2]
        captured = capsys.readouterr()
        return rc, captured.out, captured.err
    return run


@pytest.fixture(params=["cpu", "gpu"])
def device(request, monkeypatch) -> str:
    """``"cpu"``, then ``"gpu"`` (simulated where no GPU is: see helpers.simulate_gpu)."""
    if request.param == "gpu":
        from helpers import simulate_gpu
        simulate_gpu(monkeypatch)
    return request.param
