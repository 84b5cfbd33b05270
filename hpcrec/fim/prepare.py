"""What every miner does first: get this rank's transactions, count items globally, recode.

Items are recoded to ``0..m-1`` by descending global support (ties by column index), the
frequent ones only; rows are then sorted ascending, so a row lists its most frequent
items first. The global item counts take one Allreduce, whose last slot carries the
ranks' stop requests (see :mod:`hpcrec.fim.control`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.comm import Comm
from ..io import Transactions, load_transactions
from ..kernels.csr import Csr, csr
from ..kernels.sparse import index_counts
from ..kernels.support import recode_rows
from .result import min_count


def local_transactions(source, comm: Comm) -> Transactions:
    """This rank's part of ``source``, which every rank passes alike.

    A :class:`Transactions` says which part it is (:class:`hpcrec.io.shard.Shard`): this
    rank's part is used as it is, a whole data set is cut here, any other part is an error.
    """
    with comm.collective_errors():
        if isinstance(source, Transactions):
            return source.validate().part(comm.rank, comm.size)
        return load_transactions(source, comm)


DENSE = 0.05  # density of the frequent items from which the data count as dense


@dataclass
class Prepared:
    rows: Csr              # this rank's rows, recoded (frequent items only), sorted
    n: int                 # transactions on all ranks
    minc: int              # minimum count
    order: np.ndarray      # column index of recoded item 0..m-1
    counts: np.ndarray     # global count of recoded items
    labels: np.ndarray
    stop: bool             # some rank asked to stop

    @property
    def m(self) -> int:
        return len(self.order)

    @property
    def density(self) -> float:
        """Share of the (transaction, frequent item) slots filled, from global counts."""
        return float(self.counts.sum()) / max(1, self.n * self.m)

    @property
    def dense(self) -> bool:
        """At least DENSE: apriori counts by bitsets (they beat tid-lists on the CPU from
        there), and on several ranks FP-Growth's groups are dealt on demand (a group's
        cost is then far from its weight)."""
        return self.density >= DENSE


def prepare(tx: Transactions, min_support: float, comm: Comm, control) -> Prepared:
    """Global item counts (one Allreduce), the frequent items in descending support, recoded rows."""
    vec = np.zeros(tx.n_items + 2, np.int64)
    # counted in place: np.bincount would copy the int32 items to int64 first (8 bytes an
    # item of the call's memory: 7 MB of T10I4D100K's, more than the mining of a high support)
    vec[:tx.n_items] = index_counts(tx.rows.indices, tx.n_items)
    vec[-2] = tx.n_rows
    vec[-1] = control.stop_requested()
    comm.allreduce(vec)
    n = int(vec[-2])
    counts = vec[:tx.n_items]
    minc = min_count(min_support, n) if n else 1
    frequent = np.flatnonzero(counts >= minc)
    order = frequent[np.lexsort((frequent, -counts[frequent]))].astype(np.int64)
    code = np.full(tx.n_items, -1, np.int32)
    code[order] = np.arange(len(order), dtype=np.int32)
    ptr, idx = recode_rows(tx.rows.indptr, tx.rows.indices, code)
    control.level(1, tx.n_items, len(order))
    return Prepared(csr(ptr, idx, None, len(order)), n, minc, order, counts[order], tx.labels,
                    bool(vec[-1]))
