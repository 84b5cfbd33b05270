"""Progress of long work (conversion, generation, mining levels, training epochs), on rank 0 only.

Shown when the ``hpcrec`` logger is at INFO — the CLI sets that on rank 0 unless
``--quiet`` — so the Python API stays silent unless the caller asks for INFO logging:

* on a terminal (stderr is a TTY): a tqdm bar, cleared when the work ends;
* otherwise (batch logs, pipes): one log line per update, at most one every
  :func:`configure` seconds (default 10; the CLI takes ``HPCREC_PROGRESS_SECONDS``), and
  the final state if it was not the last line shown, so a SLURM log reads as a short
  history instead of a carriage-return smear (work shorter than the interval prints
  nothing). A :meth:`note` (e.g. an epoch's losses) is a line of its own there and the
  bar's postfix on a terminal.

Rank 0 reports its own share of the work (its byte range, its rows), a good proxy for the
job's progress since the decomposition balances the shares.
"""
from __future__ import annotations

import contextlib
import logging
import sys
import time

log = logging.getLogger("hpcrec")
DEFAULT_SECONDS = 10.0
_every = DEFAULT_SECONDS


def configure(seconds) -> None:
    """Seconds between two progress lines in batch logs (a number >= 0; 0: every update).
    A value that is not one keeps the default, with a warning."""
    global _every
    try:
        value = float(seconds)
        if not value >= 0:
            raise ValueError
    except (TypeError, ValueError):
        log.warning("progress interval %r is not a number of seconds >= 0: using %g",
                    seconds, DEFAULT_SECONDS)
        value = DEFAULT_SECONDS
    _every = value


class _Silent:
    def update(self, n: float = 1) -> None:
        pass

    def note(self, text: str) -> None:
        pass


class _Bar:
    """A tqdm bar on the terminal; notes become its postfix."""

    def __init__(self, desc: str, total: float | None, unit: str):
        from tqdm import tqdm
        self.bar = tqdm(total=total, desc=desc, unit=unit, unit_scale=unit == "B", leave=False,
                        file=sys.stderr, dynamic_ncols=True)

    def update(self, n: float = 1) -> None:
        self.bar.update(n)

    def note(self, text: str) -> None:
        self.bar.set_postfix_str(text)

    def close(self) -> None:
        self.bar.close()


class _LogLines:
    """One line per update (rate-limited), for output that is not a terminal."""

    def __init__(self, desc: str, total: float | None, unit: str):
        self.desc, self.total, self.unit = desc, total, unit
        self.done = self.shown = 0.0
        self.t0 = self.last = time.monotonic()
        self.every = _every

    def _line(self) -> str:
        elapsed = time.monotonic() - self.t0
        done = _amount(self.done, self.unit)
        if self.total:
            return (f"{self.desc}: {100 * self.done / self.total:.0f}% "
                    f"({done} of {_amount(self.total, self.unit)}, {elapsed:.1f} s)")
        return f"{self.desc}: {done} ({elapsed:.1f} s)"

    def update(self, n: float = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last, self.shown = now, self.done
            log.info("%s", self._line())

    def note(self, text: str) -> None:
        """A line of its own, which also counts as the update line of this interval."""
        self.last, self.shown = time.monotonic(), self.done
        log.info("%s", text)

    def close(self) -> None:
        """The final state, when earlier lines were shown (short work stays silent)."""
        if self.last != self.t0 and self.shown != self.done:
            log.info("%s", self._line())


def _amount(x: float, unit: str) -> str:
    if unit == "B":
        for name, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
            if x >= size:
                return f"{x / size:.1f} {name}"
        return f"{x:.0f} B"
    return f"{x:g} {unit}"


def enabled(comm=None) -> bool:
    """Whether this process shows progress: rank 0 with the hpcrec logger at INFO."""
    rank = 0 if comm is None else comm.rank
    return rank == 0 and log.isEnabledFor(logging.INFO)


@contextlib.contextmanager
def progress(desc: str, total: float | None = None, unit: str = "it", comm=None, show: bool = True):
    """A progress reporter with ``update(n)`` and ``note(text)``: a bar, log lines or nothing
    (see the module doc; ``show=False``: nothing, e.g. when the run context asks for none)."""
    if not (show and enabled(comm)):
        yield _Silent()
        return
    reporter = (_Bar if sys.stderr.isatty() else _LogLines)(desc, total, unit)
    try:
        yield reporter
    finally:
        reporter.close()
