"""Groups dealt on demand: FP-Max's and FP-Close's groups of a round, and FP-Growth's on
dense data, go to whichever rank is free, not by a deal planned from their weights (FP-Max
since session 14: claimed by units it measured faster so; FP-Growth on dense data since
session 24, benchmarks/README.md).

On dense data a group's cost is not its weight (0.004 to 2.7 s at equal weights,
benchmarks/README.md "2 ranks on dense data"), so a planned deal left one rank idle while
another mined. Here every rank holds the whole round's conditional transactions and walks
its groups largest item first, in units (a heavy group alone, light ones together); at
each unit it reads what the others took (their notices,
:class:`~hpcrec.core.comm.Notices`) and takes the unit unless one of them has, telling
them so. A rank's groups are then still in descending order, as its search needs. Two
ranks may take the same unit at nearly the same moment: both mine it, and after the round
the copy of the lowest of them is kept (:meth:`Claims.close`). The dropped copy's sets
pruned nothing the kept copy does not also hold: any set they pruned on that rank is
contained in a set of the kept copy, or of a set containing that one, so the cross-rank
filter finds it (docs/fim.md, "Distributed schemes").
"""
from __future__ import annotations

import numpy as np

from ..core.comm import Comm


class Claims:
    """Which of the round's units ``[lo, hi)`` this rank mines (a unit: a group, or a range
    of light groups, :func:`hpcrec.fim.pfp.claim_cuts`), decided unit by unit (:meth:`take`,
    largest items first). Rank r leaves the first r units no rank has taken to the lower
    ranks (rank 0 takes every unit it reaches untaken), so ranks that reach a unit together
    take different ones: without it two ranks that once took the same unit finish it
    together and collide on every unit after it."""

    def __init__(self, comm: Comm, lo: int, hi: int):
        self.comm, self.lo, self.hi = comm, lo, hi
        self.taken = np.zeros(hi - lo, np.bool_)   # by place: 0 is item hi - 1
        self.front = 0                             # no place below it is untaken
        self.mine: list[int] = []                  # places taken here
        self.sent = 0
        self.notices = comm.notices()

    def take(self, j: int) -> bool:
        """Whether this rank mines unit j (called for j descending)."""
        self.taken[self.notices.arrived()] = True
        at = self.hi - 1 - j
        while self.front < at and self.taken[self.front]:
            self.front += 1
        left = at - self.front - int(np.count_nonzero(self.taken[self.front:at]))
        if self.taken[at] or left < min(self.comm.rank, len(self.taken) - 1 - at):
            return False
        self.taken[at] = True
        self.mine.append(at)
        self.notices.send(at)
        self.sent += 1
        return True

    def close(self) -> np.ndarray:
        """Collective, after the round: the units this rank mined that a lower rank mined
        too (their sets are to be dropped here)."""
        comm = self.comm
        self.notices.close(comm.allgather_counts(self.sent))
        mine = np.array(self.mine, np.int64)
        every = comm.allgatherv(mine)
        sizes = comm.allgather_counts(len(mine))
        ends = np.cumsum(sizes)
        first = np.full(self.hi - self.lo, comm.size, np.int64)   # lowest rank per place
        for r in range(comm.size - 1, -1, -1):
            first[every[ends[r] - sizes[r]:ends[r]]] = r
        return self.hi - 1 - mine[first[mine] != comm.rank]
