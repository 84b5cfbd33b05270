"""The run context: everything a run shares, built once per API call or command, passed down.

An API entry point (``hpcrec.fim.apriori`` ..., ``Recommender.fit``) or a CLI command
builds one :class:`RunContext` from its keywords (``comm=``, ``device=``, ...) — the
only moment the environment is read (memory budget, huge pages, Numba threads, GPU binding) and a
device name is checked and resolved — and hands it to the algorithms, which read their
communicator, device, memory budget, stop request, timer and progress flag from it.
Entering the context (``with ctx:``) lets its stop request watch its signals.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

from . import pages
from .comm import Comm, resolve
from .device import resolve_device, share_cores
from .memory import MemoryBudget
from .stop import StopRequest
from .timing import Timer


@dataclass
class RunContext:
    """One run's communicator, resolved device (``cpu`` or ``gpu``), memory budget, stop
    request, timer and whether this rank reports progress."""

    comm: Comm
    device: str
    memory: MemoryBudget
    stop: StopRequest
    timer: Timer
    progress: bool = False

    @classmethod
    def build(cls, comm: Comm | None = None, device: str = "cpu", *, progress: bool = False,
              time_limit: float | None = None, stop_signals: tuple = ()) -> "RunContext":
        """Resolve ``comm`` and ``device`` (collective: every rank calls it), share the
        node's cores among its ranks, read the memory budget; ``progress`` is honoured on
        rank 0 only. ``stop_signals`` and ``time_limit`` configure the stop request. NumPy's
        huge-page advice is set once per process (:mod:`.pages`)."""
        pages.apply()
        comm = resolve(comm)
        device = resolve_device(device, comm)
        share_cores(comm)
        return cls(comm, device, MemoryBudget.for_ranks(comm.local_size),
                   StopRequest(comm, time_limit, stop_signals), Timer(comm),
                   bool(progress) and comm.is_root)

    def __enter__(self) -> "RunContext":
        self._watch = contextlib.ExitStack()
        self._watch.enter_context(self.stop.watching())
        return self

    def __exit__(self, *exc) -> None:
        self._watch.close()
