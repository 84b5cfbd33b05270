"""FP-Growth, FP-Max and FP-Close, PFP-style: one exchange, then every rank mines alone.

1. Global item counts by Allreduce give the frequency order (:mod:`hpcrec.fim.prepare`).
2. Items are dealt to ranks (groups) by a greedy balance of the conditional-database
   sizes, summed with a second Allreduce.
3. ONE Alltoallv sends each rank, from every transaction, the prefix up to the last
   item that rank owns: exactly the conditional transactions of its items.
4. Each rank mines the itemsets whose least frequent item it owns, groups (items) largest
   first (:func:`hpcrec.kernels.projected.mine_range`), with no further communication; a
   stop request is honoured between batches of groups (the result is then flagged partial:
   it holds the itemsets of the groups completed).
5. FP-Max / FP-Close: each rank's search stores only sets that no set of its own groups
   contains (for closed sets: with the same count); after one Allgatherv, those contained
   in a set of another rank are dropped, so the result is the same for every rank count.
"""
from __future__ import annotations

import time

import numpy as np

from .. import kernels
from ..core.comm import Comm
from ..core.errors import MemoryBudgetError
from ..core.memory import Guard
from ..kernels import projected as P
from ..kernels.csr import Csr, csr
from ..kernels.protocols import MineOptions
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
        return prep.rows, np.arange(prep.m)
    with timer.phase("count"):
        weights = P.prefix_weights(prep.rows.indptr, prep.rows.indices, prep.m)
    with timer.phase("communicate"):
        comm.allreduce(weights)
    owner = assign_groups(weights, comm.size)
    with comm.collective_errors(), timer.phase("count"):
        send, counts = P.shard_prefixes(prep.rows.indptr, prep.rows.indices, owner, comm.size)
    with timer.phase("communicate"):
        recv, _ = comm.alltoallv(send, counts)
    with comm.collective_errors(), timer.phase("count"):
        guard.check(3 * recv.nbytes, "the conditional database received by this rank")
        ptr, idx = P.parse_records(recv)
    return csr(ptr, idx, None, prep.m), np.flatnonzero(owner == comm.rank)


MODES = {"fpgrowth": P.FREQUENT, "fpmax": P.MAXIMAL, "fpclose": P.CLOSED}
BATCH_SECONDS = (0.05, 0.5)  # a call of the kernel between two looks at the stop request


def _mine_local(prep: Prepared, rows: Csr, items, max_len, mode: int, guard: Guard, control):
    """This rank's groups, largest item first, in batches between which a stop request
    (signal, time limit) is honoured. Returns (flat, lengths, counts, stopped)."""
    limit = guard.max_items(64)
    chunk = min(CHUNK_ITEMS, guard.max_items(24))  # conditional rows: 4 bytes an item, 32 a row
    owned = np.zeros(prep.m, np.bool_)
    owned[items] = True
    total = np.concatenate(([0], np.cumsum(P.prefix_weights(rows.indptr, rows.indices, prep.m)
                                           * owned)))
    miner = kernels.get("projected", "cpu")   # no GPU miner: the engine mines on the CPU
    store = miner.empty_store(prep.m)
    options = MineOptions(prep.m, prep.minc, max_len or 0, limit, mode)
    step, hi, stopped = 1 << 16, prep.m, False
    with control.work("mining (conditional items)", int(total[-1]), "items") as bar:
        while hi > 0:  # the batch sizes adapt to about BATCH_SECONDS; they do not change results
            lo = min(hi - 1, int(np.searchsorted(total, total[hi] - min(step, chunk))))
            t0 = time.perf_counter()
            status, store = miner.mine_range(rows, owned, lo, hi, options, store)
            if status != P.OK:
                raise MemoryBudgetError(f"more than {limit} itemsets on one rank at min_support "
                                        f"{prep.minc}/{prep.n}: {guard.hint}")
            seconds = time.perf_counter() - t0
            step = step * 2 if seconds < BATCH_SECONDS[0] else max(1, step // 2) \
                if seconds > BATCH_SECONDS[1] else step
            bar.update(int(total[hi] - total[lo]))
            hi = lo
            if hi > 0 and control.stop_requested():
                stopped = True
                break
    n, n_items = int(store.tops[0]), int(store.tops[1])
    return (store.items[:n_items], store.meta["len"][:n].copy(), store.meta["count"][:n].copy(),
            stopped)


def _without_supersets(flat, lengths, counts, against, m, equal):
    """Drop the itemsets contained in another itemset of ``against`` (flat, lengths,
    counts); with ``equal``, only in one with the same count."""
    items, ptr, counts = canonical(flat, lengths, counts)
    lens = np.diff(ptr)
    a_items, a_ptr, a_counts = canonical(*against)
    keep = ~P.has_superset(items, ptr, counts, a_items, a_ptr, a_counts, m, equal)
    return items[np.repeat(keep, lens)], lens[keep], counts[keep]


def mine(prep: Prepared, max_len: int | None, comm: Comm, algorithm: str, control, timer,
         guard: Guard):
    """This rank's share of the result: (flat recoded items, lengths, counts, partial).

    FP-Max and FP-Close mine every length (maximal / closed among all frequent itemsets,
    then those up to max_len, as mlxtend's fpmax); a set found on one rank that a set of
    another rank's groups extends (contains, for FP-Close with the same count) is dropped
    after one Allgatherv, so the result does not depend on the number of ranks.
    """
    mode = MODES[algorithm]
    rows, items = _exchange(prep, comm, guard, timer)
    control.note("exchanged conditional transactions: %d rows here, %d items owned",
                 rows.n_rows, len(items))
    with comm.collective_errors(), timer.phase("mine"):
        flat, lengths, counts, stopped = _mine_local(
            prep, rows, items, max_len if mode == P.FREQUENT else None, mode, guard, control)
    control.note("mined %d itemsets here", len(counts))
    partial = bool(comm.allreduce_scalar(int(stopped), "max")) if comm.size > 1 else stopped
    if mode != P.FREQUENT:
        if comm.size > 1:
            with timer.phase("communicate"):
                every = tuple(comm.allgatherv(np.ascontiguousarray(a))
                              for a in (flat, lengths, counts))
            with comm.collective_errors(), timer.phase("mine"):
                flat, lengths, counts = _without_supersets(flat, lengths, counts, every, prep.m,
                                                           mode == P.CLOSED)
        if max_len is not None:
            short = lengths <= max_len
            flat, lengths, counts = flat[np.repeat(short, lengths)], lengths[short], counts[short]
    return flat, lengths, counts, partial
