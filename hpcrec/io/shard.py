"""Which part of a data set an in-memory object holds: the one shard type of transactions
and ratings.

A data set of ``total`` rows (transactions or ratings) is cut into ``parts`` contiguous
parts in rank order; part ``part`` starts at global row ``offset``. A whole data set is
part 0 of 1. Readers take the part to read as ``(part, parts)`` and need no communicator
(under MPI, rank r of p asks for part r of p). A part is never cut again: asking a part
for another cut is an error, so a shard handed to ``fit`` or a miner is used as it is.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..core.errors import InputError


@dataclass(frozen=True)
class Shard:
    offset: int = 0   # global index of the part's first row
    total: int = 0    # rows in the whole data set (all parts)
    part: int = 0     # which part, 0 .. parts-1
    parts: int = 1    # how many parts the data set is cut into

    def __post_init__(self):
        if not 0 <= self.part < self.parts or self.offset < 0 or self.total < 0:
            raise ValueError(f"invalid shard {self}")

    @property
    def whole(self) -> bool:
        """Whether this is the whole data set (which may still be cut into parts)."""
        return self.parts == 1

    def check_part(self, part: int, parts: int, what: str) -> bool:
        """True when this is already part ``part`` of ``parts``; False when it is the whole
        data set (to be cut); otherwise an :class:`InputError`: a part is never cut again."""
        if self.whole:
            return parts == 1
        if (self.part, self.parts) == (part, parts):
            return True
        raise InputError(f"these {what} are part {self.part + 1} of {self.parts} of a data set; "
                         f"part {part + 1} of {parts} was asked for (a part is never cut again: "
                         "pass the whole data set, or read it with this rank count)")


class Sharded:
    """``n_total`` and ``offset`` of a data class holding a ``shard`` (ratings, transactions)."""

    shard: Shard

    @property
    def n_total(self) -> int:
        """Rows in the whole data set (all parts)."""
        return self.shard.total

    @property
    def offset(self) -> int:
        """Global index of this part's first row."""
        return self.shard.offset


def whole(n: int) -> Shard:
    """The shard of a data set of ``n`` rows held whole."""
    return Shard(0, int(n), 0, 1)
