"""Memory guard: refuse a structure that would not fit, with a hint, before allocating it.

The budget per rank is ``HPCREC_MEMORY_LIMIT`` (bytes; suffixes K, M, G allowed) if set,
else ``HPCREC_MEMORY_FRACTION`` (default 0.8) of this node's physical memory divided by
the ranks on the node. Mining checks each candidate set, tid-list store and count vector
against it and raises :class:`MemoryBudgetError` instead of meeting the OOM killer.
"""
from __future__ import annotations

import os

from ..errors import InputError, MemoryBudgetError

HINT = "raise min_support, set max_len, or run on more ranks / nodes"
_SUFFIX = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def _parse_bytes(text: str) -> int:
    text = text.strip().upper().removesuffix("B")
    unit = text[-1:] if text[-1:] in _SUFFIX else ""
    try:
        return int(float(text[:len(text) - len(unit)]) * _SUFFIX[unit])
    except ValueError:
        raise InputError(f"HPCREC_MEMORY_LIMIT={text!r} is not a size like 2G or 500M") from None


def budget_bytes(ranks_on_node: int = 1) -> int:
    """Bytes one rank may use for mining structures."""
    limit = os.environ.get("HPCREC_MEMORY_LIMIT")
    if limit:
        return _parse_bytes(limit)
    fraction = float(os.environ.get("HPCREC_MEMORY_FRACTION", "0.8"))
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return int(physical * fraction / max(1, ranks_on_node))


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} TiB"


class Guard:
    """Checks planned allocations of one rank against its budget."""

    def __init__(self, ranks_on_node: int = 1):
        self.budget = budget_bytes(ranks_on_node)

    def check(self, nbytes: int, what: str) -> None:
        if nbytes > self.budget:
            raise MemoryBudgetError(
                f"{what} would need {_human(nbytes)}, over this rank's memory budget of "
                f"{_human(self.budget)}: {HINT} (budget: HPCREC_MEMORY_LIMIT / HPCREC_MEMORY_FRACTION)")

    def max_items(self, bytes_per_item: int) -> int:
        """How many records of ``bytes_per_item`` fit in the budget."""
        return max(1, self.budget // max(1, bytes_per_item))
