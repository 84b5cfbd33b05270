"""Progress reports of long mining runs, and where mining reads the run's stop request.

Rank 0 logs one line per level (level, candidates, frequent, elapsed) when the run context
asks for progress, and shows a bar (terminal) or rate-limited lines (logs) over longer
stretches of work (:meth:`Control.work`). The stop request (a signal or time limit, :mod:`hpcrec.core.stop`) is
honoured at the next level boundary: the request rides in the level's count Allreduce, so
every rank stops after the same level, and the levels completed so far are the (partial,
flagged) result.
"""
from __future__ import annotations

import logging

from ..progress import progress

log = logging.getLogger("hpcrec")


class Control:
    """Mining's view of a run context: its stop request and its progress lines."""

    def __init__(self, context):
        self.comm = context.comm
        self.progress = context.progress
        self.stop = context.stop

    def elapsed(self) -> float:
        return self.stop.elapsed()

    def stop_requested(self) -> bool:
        """This rank's wish to stop (to be agreed through a collective)."""
        return self.stop.requested()

    def level(self, k: int, candidates: int, frequent: int) -> None:
        if self.progress:
            log.info("level %d: %d candidates, %d frequent, %.2fs", k, candidates, frequent,
                     self.elapsed())

    def work(self, desc: str, total: float, unit: str):
        """A progress reporter (:func:`hpcrec.progress.progress`) over a stretch of work,
        silent unless the run asks for progress."""
        return progress(desc, total, unit, self.comm, show=self.progress)

    def note(self, message: str, *args) -> None:
        if self.progress:
            log.info(message + ", %.2fs", *args, self.elapsed())
