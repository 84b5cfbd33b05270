"""Timing records: time per phase plus counters, filled by algorithms, read by benchmarks.

An algorithm wraps its phases (``read``, ``compute``, ``communicate``, ``write``, ...) in
``timer.phase(name)``; communication time and bytes come from the communicator's own
counters. The benchmark harness and the CLI's final log line read :meth:`Timer.record`.
"""
from __future__ import annotations

import contextlib
import resource
import sys
import time


def peak_rss_bytes() -> int:
    """Peak resident memory of this process so far."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(kb) * (1 if sys.platform == "darwin" else 1024)


class Timer:
    """Accumulates seconds per named phase and arbitrary counters (items, updates, ...)."""

    def __init__(self, comm=None):
        self.phases: dict[str, float] = {}
        self.counters: dict[str, float] = {}
        self._comm = comm
        self._t0 = time.perf_counter()
        self._comm0 = (comm.comm_seconds, comm.comm_bytes) if comm is not None else (0.0, 0)

    @contextlib.contextmanager
    def phase(self, name: str):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.phases[name] = self.phases.get(name, 0.0) + time.perf_counter() - t0

    def count(self, name: str, value: float) -> None:
        self.counters[name] = self.counters.get(name, 0) + value

    def record(self) -> dict:
        """Phases, counters, total time, communication time/bytes and peak memory, as a dict."""
        rec = {"phases": dict(self.phases), "counters": dict(self.counters),
               "total_s": time.perf_counter() - self._t0, "peak_rss_bytes": peak_rss_bytes()}
        if self._comm is not None:
            rec["comm_s"] = self._comm.comm_seconds - self._comm0[0]
            rec["comm_bytes"] = self._comm.comm_bytes - self._comm0[1]
        return rec

    def summary(self) -> str:
        """One human-readable line: phases with seconds."""
        parts = [f"{k} {v:.3f}s" for k, v in self.phases.items()]
        if self._comm is not None:
            parts.append(f"comm {self._comm.comm_seconds - self._comm0[0]:.3f}s")
        return ", ".join(parts)
