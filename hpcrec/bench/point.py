"""One measurement under a time limit: a run that overruns is killed and recorded as timed out.

``hpcrec bench run`` (under a launcher) appends its own record. When it does not finish
within the limit, its process group gets TERM (srun/mpiexec pass it to the ranks), KILL
:data:`GRACE_S` seconds later, and a record with ``status = "timeout"`` is appended instead:
the limit, the time it ran and the phases it had reached (rank 0 of ``bench run`` notes each
phase it enters in the file named by ``$HPCREC_BENCH_PROGRESS``). A study then goes on with
its next point, and its report lists the point as timed out. Used by local studies and, as
``hpcrec bench point``, by the rendered SLURM jobscripts (which are never requeued: a
benchmark has no checkpoint to resume from).
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ..core.errors import HpcrecError, InputError
from . import record

PROGRESS_ENV = "HPCREC_BENCH_PROGRESS"
GRACE_S = 10
TIMED_OUT = 124   # the exit status of timeout(1)


def bench_run_args(argv: list[str]):
    """The parsed ``bench run WORKLOAD ...`` part of a launch command line."""
    from ..cli import build_parser
    for i in range(len(argv) - 1):
        if argv[i:i + 2] == ["bench", "run"]:
            args, _ = build_parser("bench").parse_known_args([str(a) for a in argv[i:]])
            return args
    raise InputError("the command is not an 'hpcrec bench run' (nothing to record on a timeout)")


def _stop(proc: subprocess.Popen) -> None:
    """TERM to the run's process group, KILL after the grace period."""
    for sig, wait_s in ((signal.SIGTERM, GRACE_S), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait_s)
            break
        except subprocess.TimeoutExpired:
            continue
    proc.wait()


def run(argv: list[str], timeout_s: float, ranks: int, nodes: int, log: Path | None = None,
        env: dict | None = None) -> int:
    """Run ``argv`` (a launcher + ``hpcrec bench run ...``), output appended to ``log`` (None:
    this process's stdout and stderr). Returns 0, or :data:`TIMED_OUT` after recording the
    overrun; a failed run raises HpcrecError (with the log's last lines).
    """
    args = bench_run_args(argv)
    if timeout_s <= 0:
        raise InputError(f"time limit must be positive, got {timeout_s}")
    records = Path(args.records)
    progress = records.parent / f".{records.name}.progress-{os.getpid()}"
    progress.unlink(missing_ok=True)
    env = dict(os.environ if env is None else env, **{PROGRESS_ENV: str(progress)},
               HPCREC_EXPECT_RANKS=str(ranks))
    env.pop("HPCREC_NO_MPI", None)   # (this driver runs without MPI; the ranks with it)
    t0 = time.monotonic()
    with open(log, "ab") if log else contextlib.nullcontext() as fh:
        proc = subprocess.Popen([str(a) for a in argv], stdout=fh, stderr=subprocess.STDOUT if fh else None,
                                env=env, start_new_session=True)
        try:
            rc = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _stop(proc)
            rc = None
    elapsed = time.monotonic() - t0
    reached = progress.read_text().split() if progress.exists() else []
    progress.unlink(missing_ok=True)
    if rc is None:
        params = {k: getattr(args, k) for k in args.params}
        tags = dict(t.partition("=")[::2] for t in args.tag)
        record.append(record.timed_out(args.workload, params, tags, ranks, nodes, timeout_s,
                                       elapsed, reached), records)
        message = (f"hpcrec: {args.workload} on {ranks} rank(s): no result within {timeout_s:g} s "
                   f"(phases reached: {' '.join(reached) or 'none'}): recorded as timed out")
        if log:
            with open(log, "a", encoding="utf-8") as fh:
                fh.write(message + "\n")
        print(message, file=sys.stderr, flush=True)
        return TIMED_OUT
    if rc != 0:
        tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-5:]) if log else ""
        raise HpcrecError(f"{args.workload} on {ranks} rank(s): exit {rc}" + (f"; log: {log}: {tail}" if log else ""))
    return 0
