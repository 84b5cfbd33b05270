"""The one memory budget of every command: refuse a structure that would not fit, before allocating it.

A rank's budget is ``HPCREC_MEMORY_LIMIT`` (bytes; suffixes K, M, G, T) when set — the
user's word, used as given. Otherwise it is the smallest of

* ``HPCREC_MEMORY_FRACTION`` (default 0.8) of the node's memory — physical RAM, or the
  cgroup limit when lower (v2 ``memory.max`` of this process's cgroup and its parents, v1
  ``memory.limit_in_bytes``: what SLURM and containers enforce) — divided by the ranks on
  the node;
* the same fraction of the headroom left under ``RLIMIT_AS`` and ``RLIMIT_DATA``
  (``ulimit -v`` / ``-d``), which are per process.

The run context reads it once (:class:`MemoryBudget`; the cgroup limit once per process,
:func:`own_cgroup_bytes`), and mining and training (factors, ALS systems, k-NN) check
their big allocations against that; conversion and reading call :func:`check_memory` (or
a :class:`Guard`) first; going over is a
:class:`MemoryBudgetError` naming the knob to turn and the budget variables. The CLI also
turns any ``MemoryError`` into one such line.
"""
from __future__ import annotations

import contextlib
import functools
import os
import resource
from pathlib import Path

from .errors import InputError, MemoryBudgetError

KNOBS = "budget: HPCREC_MEMORY_LIMIT / HPCREC_MEMORY_FRACTION"
_SUFFIX = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
# Variables launchers set to the number of ranks on this node (MPICH/Hydra, Open MPI, SLURM).
_LOCAL_SIZE_VARS = ("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE", "SLURM_NTASKS_PER_NODE")


def parse_bytes(text: str) -> int:
    """``2G``, ``500M``, ``1.5e9`` -> bytes (an :class:`InputError` for anything else)."""
    raw = text
    text = text.strip().upper().removesuffix("IB").removesuffix("B")
    unit = text[-1:] if text[-1:] in _SUFFIX else ""
    try:
        value = float(text[:len(text) - len(unit)]) * _SUFFIX[unit]
    except ValueError:
        value = -1.0
    if not 0 < value < 2 ** 63:
        raise InputError(f"HPCREC_MEMORY_LIMIT={raw!r} is not a size like 2G or 500M")
    return int(value)


def _fraction() -> float:
    text = os.environ.get("HPCREC_MEMORY_FRACTION", "0.8")
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 1:
        raise InputError(f"HPCREC_MEMORY_FRACTION={text!r} must be a number in (0, 1]")
    return value


def physical_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 2 ** 62


def _read_limit(path: Path) -> int | None:
    """A cgroup limit file's value; None when absent, unreadable or unlimited."""
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if not text.isdigit():   # "max"
        return None
    value = int(text)
    return value if value < 2 ** 60 else None   # v1 writes ~2**63 for "no limit"


def cgroup_bytes(proc_cgroup: str = "/proc/self/cgroup", root: str = "/sys/fs/cgroup") -> int | None:
    """The tightest cgroup memory limit over this process's cgroup and its ancestors (v2 or v1)."""
    try:
        lines = Path(proc_cgroup).read_text().splitlines()
    except OSError:
        return None
    limits = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        controllers, rel = parts[1], parts[2].lstrip("/")
        if controllers == "":                       # v2 unified hierarchy
            base, name = Path(root), "memory.max"
        elif "memory" in controllers.split(","):    # v1 memory controller
            base, name = Path(root) / "memory", "memory.limit_in_bytes"
        else:
            continue
        folder = base / rel
        while True:
            limit = _read_limit(folder / name)
            if limit is not None:
                limits.append(limit)
            if folder == base or base not in folder.parents:
                break
            folder = folder.parent
    return min(limits) if limits else None


@functools.cache
def own_cgroup_bytes() -> int | None:
    """This process's :func:`cgroup_bytes`, read on first use only: its four to six file
    reads took 0.2-0.25 ms a call (cgroup v1 here), 2-3 % of a 10 ms mining call
    (benchmarks/README.md, session 19, h63). A limit changed while the process runs is
    not seen."""
    return cgroup_bytes()


def _status_bytes(field: str, status: str = "/proc/self/status") -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in Path(status).read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def rlimit_headroom() -> int | None:
    """Bytes left under RLIMIT_AS / RLIMIT_DATA (the smaller), None when neither is set."""
    room = []
    for limit, field in ((resource.RLIMIT_AS, "VmSize"), (resource.RLIMIT_DATA, "VmData")):
        soft = resource.getrlimit(limit)[0]
        if soft != resource.RLIM_INFINITY:
            room.append(max(0, soft - _status_bytes(field)))
    return min(room) if room else None


@functools.cache
def _overcommit_mode(path: str) -> str:
    with contextlib.suppress(OSError):
        return Path(path).read_text().strip()
    return ""


def untouched_is_free(overcommit: str = "/proc/sys/vm/overcommit_memory") -> bool:
    """Whether address space asked for but never written costs nothing here: Linux
    overcommits (``vm.overcommit_memory`` 0 or 1; 2 charges every writable mapping to the
    commit limit) and neither ``RLIMIT_AS`` nor ``RLIMIT_DATA`` is set (both count it).
    Only then do growing stores reserve room ahead (``MineOptions.reserve``): elsewhere a
    reservation could take what other allocations, or other processes, need."""
    limited = any(resource.getrlimit(limit)[0] != resource.RLIM_INFINITY
                  for limit in (resource.RLIMIT_AS, resource.RLIMIT_DATA))
    return not limited and _overcommit_mode(overcommit) in ("0", "1")


def ranks_on_node() -> int:
    """Ranks sharing this node, from the launcher's variables (1 when unknown)."""
    for var in _LOCAL_SIZE_VARS:
        value = os.environ.get(var, "").split("(")[0]
        if value.isdigit() and int(value) > 0:
            return int(value)
    return 1


def budget_bytes(local_ranks: int | None = None) -> int:
    """Bytes one rank may use for its large structures (see the module docstring)."""
    limit = os.environ.get("HPCREC_MEMORY_LIMIT")
    if limit:
        return parse_bytes(limit)
    fraction = _fraction()
    local = local_ranks or ranks_on_node()
    node = physical_bytes()
    cgroup = own_cgroup_bytes()
    if cgroup is not None:
        node = min(node, cgroup)
    budget = fraction * node / max(1, local)
    room = rlimit_headroom()
    if room is not None:
        budget = min(budget, fraction * room)
    return int(budget)


def human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} TiB"


def over_budget(nbytes: float, budget: int, what: str, hint: str) -> MemoryBudgetError:
    return MemoryBudgetError(f"{what} would need {human(nbytes)}, over this rank's memory budget "
                             f"of {human(budget)}: {hint} ({KNOBS})")


class Guard:
    """Checks the planned allocations of one rank against its budget, counting what is held."""

    def __init__(self, local_ranks: int | None = None, hint: str = "use more ranks / nodes",
                 budget: int | None = None):
        self.budget = budget_bytes(local_ranks) if budget is None else budget
        self.hint = hint
        self.held = 0   # bytes of results kept while more is allocated (e.g. earlier levels)

    def check(self, nbytes: float, what: str, hint: str | None = None) -> None:
        if nbytes + self.held > self.budget:
            raise over_budget(nbytes + self.held, self.budget, what, hint or self.hint)

    def hold(self, nbytes: int) -> None:
        """Count ``nbytes`` as kept from now on (checked first, like any allocation)."""
        self.check(nbytes, "the itemsets found so far")
        self.held += nbytes

    @contextlib.contextmanager
    def holding(self, nbytes: int):
        """Count ``nbytes`` as kept inside the block (arrays that live through a phase;
        the caller checks them first, under MPI inside ``collective_errors``)."""
        self.held += nbytes
        try:
            yield
        finally:
            self.held -= nbytes

    def max_items(self, bytes_per_item: int) -> int:
        """How many records of ``bytes_per_item`` fit in the budget."""
        return max(1, self.budget // max(1, bytes_per_item))


def check_memory(nbytes: float, what: str, hint: str, comm=None, budget: int | None = None) -> None:
    """Fail before allocating ``nbytes`` over this rank's budget (``budget``, else read now).

    Collective when ``comm`` is given (every rank calls it): if any rank is over, all raise.
    """
    if comm is None:
        Guard(budget=budget).check(nbytes, what, hint)
        return
    local = comm.local_size if budget is None else None
    with comm.collective_errors():
        Guard(local, budget=budget).check(nbytes, what, hint)


class MemoryBudget:
    """This rank's budget, read once when a run starts: what its algorithms check against."""

    def __init__(self, nbytes: int):
        self.bytes = int(nbytes)

    @classmethod
    def for_ranks(cls, local_ranks: int | None = None) -> "MemoryBudget":
        """The budget of one of ``local_ranks`` ranks on this node (from the environment)."""
        return cls(budget_bytes(local_ranks))

    def guard(self, hint: str = "use more ranks / nodes") -> Guard:
        return Guard(hint=hint, budget=self.bytes)

    def check(self, nbytes: float, what: str, hint: str, comm=None) -> None:
        """:func:`check_memory` against this budget (collective when ``comm`` is given)."""
        check_memory(nbytes, what, hint, comm, budget=self.bytes)
