"""The one timer: time per phase plus counters, filled by algorithms, read by commands and benchmarks.

An algorithm wraps its phases (``read``, ``compute``, ``communicate``, ``write``, ...) in
``timer.phase(name)`` (or starts a :class:`Span` and stops it); communication time, bytes
and calls come from the communicator's own counters, which every collective updates, and
:meth:`Timer.computing` splits a call into ``compute`` and ``communicate`` with them. The
commands' final log lines read :meth:`Timer.summary`, the benchmark harness
:meth:`Timer.record`.
"""
from __future__ import annotations

import contextlib
import resource
import sys
import time
from typing import Callable


def peak_rss_bytes() -> int:
    """Peak resident memory of this process so far."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(kb) * (1 if sys.platform == "darwin" else 1024)


class Span:
    """One timed stretch of a phase: started when made, added to its phase by :meth:`stop`."""

    def __init__(self, timer: "Timer", name: str):
        self.timer, self.name = timer, name
        self.seconds: float | None = None
        self._t0 = time.perf_counter()

    def stop(self) -> float:
        """Add the seconds since the start to the phase (once); return them."""
        if self.seconds is None:
            self.seconds = time.perf_counter() - self._t0
            self.timer.add(self.name, self.seconds)
        return self.seconds


class Timer:
    """Accumulates seconds per named phase and arbitrary counters (items, updates, ...).

    ``on_phase`` is called with a phase's name when it starts (the benchmark harness notes
    it in a progress file).
    """

    def __init__(self, comm=None, on_phase: Callable[[str], None] | None = None):
        self.phases: dict[str, float] = {}
        self.counters: dict[str, float] = {}
        self._comm = comm
        self._on_phase = on_phase
        self._t0 = time.perf_counter()
        self._comm0 = self._comm_counters()

    def _comm_counters(self) -> tuple[float, int, int]:
        c = self._comm
        return (c.comm_seconds, c.comm_bytes, c.comm_calls) if c is not None else (0.0, 0, 0)

    def add(self, name: str, seconds: float) -> None:
        self.phases[name] = self.phases.get(name, 0.0) + seconds

    def span(self, name: str) -> Span:
        """Start timing phase ``name`` now; :meth:`Span.stop` ends it."""
        if self._on_phase is not None:
            self._on_phase(name)
        return Span(self, name)

    @contextlib.contextmanager
    def phase(self, name: str):
        """Time the block as phase ``name``; yields its :class:`Span` (``seconds`` after it)."""
        span = self.span(name)
        try:
            yield span
        finally:
            span.stop()

    @contextlib.contextmanager
    def computing(self):
        """Time a block that computes and communicates, as ``compute`` and ``communicate``
        (the time inside the communicator's collectives)."""
        if self._on_phase is not None:
            self._on_phase("compute")
        t0, c0 = time.perf_counter(), self._comm_counters()[0]
        try:
            yield
        finally:
            comm_s = self._comm_counters()[0] - c0
            self.add("communicate", comm_s)
            self.add("compute", time.perf_counter() - t0 - comm_s)

    def count(self, name: str, value: float) -> None:
        self.counters[name] = self.counters.get(name, 0) + value

    def record(self) -> dict:
        """Phases, counters, total time, communication time/bytes/calls since the timer
        started, and peak memory, as a dict."""
        rec = {"phases": dict(self.phases), "counters": dict(self.counters),
               "total_s": time.perf_counter() - self._t0, "peak_rss_bytes": peak_rss_bytes()}
        if self._comm is not None:
            now = self._comm_counters()
            rec["comm_s"], rec["comm_bytes"], rec["comm_calls"] = (
                a - b for a, b in zip(now, self._comm0))
        return rec

    def summary(self, names=None) -> str:
        """One human-readable line: the phases (those in ``names``, else all) with seconds,
        then the communication time."""
        parts = [f"{k} {v:.3f}s" for k, v in self.phases.items() if names is None or k in names]
        if self._comm is not None:
            parts.append(f"comm {self._comm.comm_seconds - self._comm0[0]:.3f}s")
        return ", ".join(parts)
