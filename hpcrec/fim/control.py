"""Progress reports and early stopping of long mining runs.

Rank 0 logs one line per level (level, candidates, frequent, elapsed). A stop is requested
locally (SIGTERM/SIGINT after :meth:`Control.handle_signals`, or a time limit) and
honoured at the next level boundary: the request rides in the level's count Allreduce,
so every rank stops after the same level, and the levels completed so far are the
(partial, flagged) result.
"""
from __future__ import annotations

import contextlib
import logging
import signal
import time

log = logging.getLogger("hpcrec")


class Control:
    def __init__(self, comm, progress: bool = True, time_limit: float | None = None):
        self.comm = comm
        self.progress = progress and comm.is_root
        self.time_limit = time_limit
        self.t0 = time.perf_counter()
        self._signalled = None

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def stop_requested(self) -> bool:
        """This rank's wish to stop (to be agreed through a collective)."""
        if self._signalled is not None:
            return True
        return self.time_limit is not None and self.elapsed() >= self.time_limit

    def level(self, k: int, candidates: int, frequent: int) -> None:
        if self.progress:
            log.info("level %d: %d candidates, %d frequent, %.2fs", k, candidates, frequent,
                     self.elapsed())

    def note(self, message: str, *args) -> None:
        if self.progress:
            log.info(message + ", %.2fs", *args, self.elapsed())

    @contextlib.contextmanager
    def handle_signals(self):
        """While active, SIGTERM (SLURM's warning before the time limit) and SIGINT request a stop."""
        def request(signum, _frame):
            self._signalled = signum
        previous = {s: signal.signal(s, request) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield self
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
