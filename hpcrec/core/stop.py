"""The one stop request of a run: a signal or a time limit, agreed across ranks.

A long run (mining levels, training epochs) may be asked to stop early: by SIGTERM, which
SLURM sends before the time limit, by SIGINT, or by a time limit of its own. The request
is local to the rank that sees it; algorithms ask at their natural boundaries and agree
through a collective, so every rank stops after the same level or epoch:
:meth:`StopRequest.agreed` is that collective, and mining folds :meth:`StopRequest.requested`
into a reduction it does anyway. Signal handlers are installed only by the code that
builds the run (:meth:`StopRequest.watching`, entered by the run context), only in the
main thread (Python allows no other), and restored afterwards; algorithms install none.
"""
from __future__ import annotations

import contextlib
import signal
import threading
import time


class StopRequest:
    """Whether this run should stop early, for ``signals`` and a ``time_limit`` in seconds.

    Configure it alike on every rank: a request that watches no signal and has no time
    limit can never fire, and is then never asked through a collective (:attr:`active`).
    """

    def __init__(self, comm, time_limit: float | None = None, signals: tuple = ()):
        self.comm = comm
        self.time_limit = time_limit
        self.signals = tuple(signals)
        self.signalled: int | None = None   # the signal received, if any
        self.t0 = time.perf_counter()

    @property
    def active(self) -> bool:
        return bool(self.signals) or self.time_limit is not None

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def requested(self) -> bool:
        """This rank's wish to stop (to be agreed through a collective)."""
        if self.signalled is not None:
            return True
        return self.time_limit is not None and self.elapsed() >= self.time_limit

    def agreed(self) -> bool:
        """True on every rank if any rank wishes to stop (collective when :attr:`active`)."""
        return self.active and bool(self.comm.allreduce_scalar(int(self.requested()), "max"))

    @contextlib.contextmanager
    def watching(self):
        """While active, the watched signals request a stop instead of their usual effect."""
        if not self.signals or threading.current_thread() is not threading.main_thread():
            yield self
            return

        def request(signum, _frame):
            self.signalled = signum

        previous = {s: signal.signal(s, request) for s in self.signals}
        try:
            yield self
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
