"""FP-Growth and FP-Max, PFP-style: one exchange, then every rank mines alone.

1. Global item counts by Allreduce give the frequency order (:mod:`hpcrec.fim.prepare`).
2. Items are dealt to ranks (groups) by a greedy balance of the conditional-database
   sizes, summed with a second Allreduce.
3. ONE Alltoallv sends each rank, from every transaction, the prefix up to the last
   item that rank owns: exactly the conditional transactions of its items.
4. Each rank mines the itemsets whose least frequent item it owns
   (:func:`hpcrec.kernels.projected.mine_groups`), with no further communication.
5. FP-Max: each rank reports the childless nodes of its search (perfect extensions
   absorbed), drops those contained in another of its own, then in any rank's; what
   remains is the set of maximal itemsets, whatever the number of ranks.
"""
from __future__ import annotations

import numpy as np

from ..comm import Comm
from ..errors import MemoryBudgetError
from ..kernels import projected as P
from ..memory import Guard
from .prepare import Prepared
from .result import canonical


CHUNK_ITEMS = 1 << 26  # conditional-database items built at a time (256 MiB)


def assign_groups(weights: np.ndarray, size: int) -> np.ndarray:
    """Owner rank of each item: heaviest first to the least loaded rank (ties: lowest rank)."""
    owner = np.zeros(len(weights), np.int64)
    if size == 1:
        return owner
    load = np.zeros(size, np.int64)
    for j in np.lexsort((np.arange(len(weights)), -weights)):
        r = int(np.argmin(load))
        owner[j] = r
        load[r] += weights[j] + 1
    return owner


def _exchange(prep: Prepared, comm: Comm, guard: Guard, timer):
    """This rank's conditional database (CSR rows) and the items it owns."""
    if comm.size == 1:  # one group owning every item: the rows themselves
        return prep.rows_ptr, prep.rows_idx, np.arange(prep.m)
    with timer.phase("count"):
        weights = P.prefix_weights(prep.rows_ptr, prep.rows_idx, prep.m)
    with timer.phase("communicate"):
        comm.allreduce(weights)
    owner = assign_groups(weights, comm.size)
    with comm.collective_errors(), timer.phase("count"):
        send, counts = P.shard_prefixes(prep.rows_ptr, prep.rows_idx, owner, comm.size)
    with timer.phase("communicate"):
        recv, _ = comm.alltoallv(send, counts)
    with comm.collective_errors(), timer.phase("count"):
        guard.check(3 * recv.nbytes, "the conditional database received by this rank")
        ptr, idx = P.parse_records(recv)
    return ptr, idx, np.flatnonzero(owner == comm.rank)


def _mine_local(prep: Prepared, ptr, idx, items, max_len, maximal: bool, guard: Guard):
    limit = guard.max_items(64)
    chunk = min(CHUNK_ITEMS, guard.max_items(24))  # conditional rows: 4 bytes an item, 16 a row
    status, flat, lengths, counts = P.mine_groups(ptr, idx, prep.m, items.astype(np.int32),
                                                  prep.minc, max_len or 0, limit, maximal, chunk)
    if status != P.OK:
        raise MemoryBudgetError(f"more than {limit} itemsets on one rank at min_support "
                                f"{prep.minc}/{prep.n}: {guard.hint}")
    return flat, lengths, counts


def _without_subsets(flat, lengths, counts, against, m):
    """Drop the itemsets contained in another itemset of ``against`` (flat, lengths)."""
    items, ptr, counts = canonical(flat, lengths, counts)
    lens = np.diff(ptr)
    a_items, a_ptr, _ = canonical(*against, np.zeros(len(against[1]), np.int64))
    keep = ~P.has_superset(items, ptr, a_items, a_ptr, m)
    return items[np.repeat(keep, lens)], lens[keep], counts[keep]


def _maximal(flat, lengths, counts, m: int, comm: Comm, timer):
    """The candidates (recoded, local) that no candidate on any rank contains."""
    with comm.collective_errors(), timer.phase("mine"):
        flat, lengths, counts = _without_subsets(flat, lengths, counts, (flat, lengths), m)
    with timer.phase("communicate"):
        every = (comm.allgatherv(flat), comm.allgatherv(lengths))
    with comm.collective_errors(), timer.phase("mine"):
        return _without_subsets(flat, lengths, counts, every, m)


def mine(prep: Prepared, max_len: int | None, comm: Comm, maximal: bool, control, timer,
         guard: Guard):
    """This rank's share of the result: (flat recoded items, lengths, counts)."""
    ptr, idx, items = _exchange(prep, comm, guard, timer)
    # FP-Max: maximal among all frequent itemsets, then those up to max_len (as mlxtend)
    mine_len = None if maximal else max_len
    control.note("exchanged conditional transactions: %d rows here, %d items owned",
                 len(ptr) - 1, len(items))
    with comm.collective_errors(), timer.phase("mine"):
        flat, lengths, counts = _mine_local(prep, ptr, idx, items, mine_len, maximal, guard)
    control.note("mined %d itemsets here", len(counts))
    if maximal:
        flat, lengths, counts = _maximal(flat, lengths, counts, prep.m, comm, timer)
        if max_len is not None:
            short = lengths <= max_len
            flat, lengths, counts = flat[np.repeat(short, lengths)], lengths[short], counts[short]
    return flat, lengths, counts
