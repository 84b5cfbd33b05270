"""Run a scaling study now, on this machine: every point (and repeat) under ``mpiexec``,
each run in its own process group with a time limit; records go to ``OUT/records.jsonl``."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from ..core.errors import HpcrecError
from . import point
from .study import Study, point_commands, weak_dir


def _mpiexec() -> str:
    beside = Path(sys.executable).parent / "mpiexec"
    found = str(beside) if beside.exists() else shutil.which("mpiexec")
    if not found:
        raise HpcrecError("mpiexec not found: install an MPI (e.g. pip install hpcrec[mpi-wheel])")
    return found


def _run_logged(argv: list[str], env: dict, log: Path, timeout_s: int, what: str) -> None:
    """Run ``argv`` in its own process group with output to ``log``; kill the group on timeout."""
    with open(log, "ab") as fh:
        proc = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
        try:
            rc = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise HpcrecError(f"{what}: no result within {timeout_s} s (killed); log: {log}") from None
    if rc != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-5:]
        raise HpcrecError(f"{what}: exit {rc}; log: {log}: " + " | ".join(tail))


def run_local(study: Study, out: Path) -> Path:
    """Run every point (and repeat) now with mpiexec; records go to ``out/records.jsonl``."""
    (out / "logs").mkdir(parents=True, exist_ok=True)
    if study.mode == "weak":
        weak_dir(study, out).mkdir(parents=True, exist_ok=True)
    base_env = dict(os.environ, OMP_NUM_THREADS=str(study.threads_per_rank),
                    NUMBA_NUM_THREADS=str(study.threads_per_rank))
    hpcrec = [sys.executable, "-m", "hpcrec"]
    for ranks, _ in study.points:
        prepare, argv = point_commands(study, ranks, out)
        log = out / "logs" / f"{study.name}-{ranks}.log"
        if prepare and not Path(prepare[3]).exists():
            env = {k: v for k, v in base_env.items() if k != "HPCREC_EXPECT_RANKS"}
            _run_logged(hpcrec + prepare, dict(env, HPCREC_NO_MPI="1"), log,
                        study.timeout_s, f"preparing data for {ranks} rank(s)")
        env = dict(base_env, HPCREC_EXPECT_RANKS=str(ranks))
        launch = [_mpiexec(), "-n", str(ranks), sys.executable, "-m", "mpi4py", "-m", "hpcrec"]
        for _ in range(study.repeat):   # an overrun is recorded; the next point may be faster
            if point.run(launch + argv, study.timeout_s, ranks, 1, log, env) == point.TIMED_OUT:
                break
    return out / "records.jsonl"
