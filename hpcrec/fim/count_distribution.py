"""Apriori by Count Distribution: every rank counts every candidate on its own rows (on
dense data, Candidate Distribution: its own candidates on every row).

Level 2: on the CPU's sparse path, each rank counts the pairs of its rows item by item
(:func:`hpcrec.kernels.support.often_pairs`) and writes only those seen >= ceil(minc / p)
times; with p ranks the union of those (one Allgatherv) is counted again on every rank
and reduced - no m x m triangle. Otherwise all pairs are counted into a triangular vector.
Per level k > 2, the candidates come from the frequent (k-1)-itemsets by join and prune
(:mod:`hpcrec.kernels.candidates`: sorted runs intersected, never every join tried), in
blocks of parents of about ``BLOCK`` candidates, so a level's candidate arrays never
exist at once: per block, every rank joins and prunes a share of the block's rows
(balanced by their joins), Allgathervs of the candidates' last items (and their number
per row) give every rank the block's candidates, each rank counts them on its slice, and
the counts are summed with one buffer Allreduce (whose last slot carries stop requests,
honoured at the end of the level; one rank reduces nothing). With p ranks, only the
candidates counted at least ceil(minc / p) times on some rank can be frequent, so only
their union (one Allgatherv of positions) is reduced when that is smaller than the whole
vector. Dense data on several CPU ranks whose item bitsets are small enough to share
go by Candidate Distribution from level 3 on instead (:func:`_shared_level`): every rank
counts its own share of the candidates over all rows.
Counters: on the CPU, sparse data is counted with tid-lists, per parent by occurrence
deliver or by intersection with the candidates' siblings, and by item bitsets over the
rows that still hold a frequent set once the tid-lists grow long
(:mod:`hpcrec.kernels.intersect`); dense data (``Prepared.dense``: the frequent items fill at least
``prepare.DENSE`` of the rows' slots) by the device's ``support`` kernel (:func:`hpcrec.kernels.get`):
item bitsets with AND + popcount (prefix intersections shared by a parent's candidates,
:mod:`hpcrec.kernels.support`); bitset AND + popcount on the GPU.
Counted by bitsets, a parent whose joins cost less to count than to prune takes them
unpruned (:func:`_unpruned`). On one rank with tid-lists the counts are final: a block's
frequent sets come straight from the counter, with no candidate list and no prune where a
parent is counted by occurrence deliver (:meth:`IntersectingCounter.extend`; T10I4D100K
at 0.0001: the level-3 prune and candidate arrays were half of apriori's time). On p ranks
with tid-lists each rank lists, the same way, the extensions it counted at least
ceil(minc / p) times; the union of those lists (Allgathervs) replaces the candidates
(:func:`_union_block`): every rank counts the union's members it did not list, and one
Allreduce sums the counts (11.4 M candidates at T10I4D100K's level 3, a union of a few
hundred thousand). Where some rank keeps no tid-lists (bitsets after its switch, or
streamed rows), or the lists would carry more than ``UNION_JOINS`` of the block's joins
(many ranks: the count ceil(minc / p) near 1), every rank lists the block's candidates
instead.
Memory: a rank's tid-lists may take :func:`list_budget` (its recoded rows' bytes or
``FLOOR``); beyond, it streams its rows in chunks of item bitsets
(:class:`hpcrec.kernels.support.StreamingCounter`), so a rank peaks at about twice its
rows (docs/fim.md, "Memory model").
"""
from __future__ import annotations

import numpy as np

from .. import kernels
from ..core.comm import Comm, weighted_bounds
from ..core.memory import Guard, untouched_is_free
from ..kernels import candidates as C
from ..kernels import support as K
from ..kernels.intersect import IntersectingCounter, union_runs
from .prepare import Prepared

PRUNE_COST = 2.0  # a step of the prune's block searches against a word of bitset counting
BLOCK = 1 << 20  # candidates of a level generated and counted at once
TRIANGLE = 1 << 20  # item pairs up to which level 2 fills the triangle (it fits in cache)
BYTES = 48  # about what a candidate holds while it is counted (left, last, counts, choice)
PARENT_BYTES = 32  # what a parent holds while its level is made (partners, offsets, children)
SHARED = 64 << 20  # all ranks' item bitsets up to which each rank holds them all (dense data)
UNION_JOINS = 0.25  # the ranks' often lists together may hold this share of the block's joins
LISTS = 1.0  # tid-lists may take this many times the bytes of the rank's recoded rows,
FLOOR = 256 << 20  # or this many bytes where that is more (small data: lists stay fastest)


def _reduce_frequent(local: np.ndarray, minc: int, stop: bool, comm: Comm, timer):
    """(positions, global counts) of the candidates counted >= minc over all ranks, and
    whether some rank asked to stop. Exact for any number of ranks: a frequent candidate
    is counted >= ceil(minc / size) times on some rank. One rank reduces nothing (the
    level-2 triangle is not copied)."""
    if comm.size == 1:
        with timer.phase("mine"):
            hit = np.flatnonzero(local >= minc)
        return hit, local[hit].astype(np.int64), stop
    pos = None
    with comm.collective_errors(), timer.phase("mine"):
        often = np.flatnonzero(local >= -(-minc // comm.size))
    with timer.phase("communicate"):
        if comm.allreduce_scalar(len(often)) * (8 + local.itemsize) < local.nbytes:
            every = np.sort(comm.allgatherv(often), kind="stable")  # merges sorted runs
            pos = every[np.diff(every, prepend=-1) != 0]
    vec = np.append(local if pos is None else local[pos], local.dtype.type(stop))
    with timer.phase("communicate"):
        comm.allreduce(vec)
    hit = np.flatnonzero(vec[:-1] >= minc)
    return (hit if pos is None else pos[hit]), vec[hit].astype(np.int64), bool(vec[-1])


def _pairs(counter, prep: Prepared, device: str, dtype, stop: bool, comm: Comm, timer,
           guard: Guard):
    """(triangle positions, global counts, local counts) of the frequent pairs, and stop.
    A tid-list counter writes only the pairs counted >= ceil(minc / p) times on this rank
    (sparse data, more than ``TRIANGLE`` pairs: the m x m triangle is mostly zero and
    out of cache); with p ranks their union is counted again on every rank and reduced.
    Otherwise the triangle is filled."""
    m, minc = prep.m, prep.minc
    if not isinstance(counter, K.TidListCounter) or K.n_pairs(m) <= TRIANGLE:
        with comm.collective_errors(), timer.phase("count"):
            size = K.n_pairs(m)
            guard.check(size * (2 * dtype().itemsize + (8 if device == "gpu" else 0)),
                        f"the level-2 count vector of {m} frequent items")
            local = np.zeros(size, dtype)
            counter.count_pairs(local)
        pos, total, stop = _reduce_frequent(local, minc, stop, comm, timer)
        return pos, total, local[pos], stop
    with comm.collective_errors(), timer.phase("count"):
        pos, local = counter.often_pairs(-(-minc // comm.size))
    if comm.size > 1:
        with timer.phase("communicate"):
            every = np.sort(comm.allgatherv(pos), kind="stable")   # merges sorted runs
        with comm.collective_errors(), timer.phase("count"):
            pos = every[np.diff(every, prepend=-1) != 0]
            guard.check(24 * len(pos), f"{len(pos)} candidate pairs")
            local = counter.count_pairs_at(pos)
    hit, total, stop = _reduce_frequent(local, minc, stop, comm, timer)
    return pos[hit], total, local[hit], stop


def _candidates(frequent: np.ndarray, partners: np.ndarray, work: np.ndarray, lo: int, hi: int,
                k: int, unpruned: int, comm: Comm, timer, guard: Guard):
    """The candidates (left, last) of level k + 1 from rows lo..hi-1 of the frequent
    k-itemsets: this rank joins and prunes a share of those rows, balanced by their joins
    (rows of fewer than ``unpruned`` joins are not pruned: :func:`C.prune_joins`)."""
    with comm.collective_errors(), timer.phase("mine"):
        a, b = lo + weighted_bounds(work[lo:hi + 1] - work[lo], comm.size)[comm.rank:comm.rank + 2]
        guard.check(int(work[b] - work[a]), f"candidate generation at level {k + 1}")
        per_row, last = C.prune_joins(frequent, partners, a, b, unpruned)
    if comm.size > 1:
        with timer.phase("communicate"):
            per_row, last = comm.allgatherv(per_row), comm.allgatherv(last)
    with comm.collective_errors(), timer.phase("mine"):
        guard.check(BYTES * len(last), f"{len(last)} candidates of level {k + 1}")
        left = np.repeat(np.arange(lo, hi), per_row)
    return left, last


def _unpruned(frequent: np.ndarray, joins: int, n_rows: int) -> int:
    """Below how many joins a parent of ``frequent`` (the last level's sets, made from
    ``joins`` joins) takes them all as candidates, unpruned, where they are counted by
    bitsets over ``n_rows`` rows: its prune costs L - 1 pairs of block searches of
    log2(len(frequent)) steps, which save counting the joins it drops, at most the share
    of the last level's joins that were not frequent, a word a row in 64 each. Rows are
    pruned where that saving would be at least half the searches' cost (PRUNE_COST
    weighs a step against a word: 2.5 against 0.6 ns here; dense-mushroom 0.07: 7.1 of
    apriori's 9.8 s were the prune, most parents having 1-3 joins)."""
    vain = 1.0 - len(frequent) / max(joins, 1)
    steps = 2 * (frequent.shape[1] - 1) * np.log2(max(len(frequent), 2))
    words = max(1, -(-n_rows // 64))
    return int(min(PRUNE_COST * steps / max(vain * words, 1e-9), 2**31))


class _Found:
    """A level's frequent sets (rows of ``width`` items) and counts, written block by
    block into arrays that hold them all, and for each of the last level's ``parents``
    rows how many of them extend it: the lengths of their runs of siblings, which join at
    the next level (:func:`~hpcrec.kernels.support.join_partners`). The level is never
    joined from its blocks (0.15 of apriori's 2.9 s on dense-mushroom 0.07, on every rank). Where address
    space never written costs nothing (:func:`~hpcrec.core.memory.untouched_is_free`) the
    arrays are reserved for ``joins`` sets (the level's joins where they are counted by
    bitsets, whose levels fill a good share of their joins; at most half the memory budget
    left); past that they grow by doubling, copied. (Sparse data reserves none: reserved
    for its many joins, T10I4D100K 0.0001 took 12 MB more process peak in fim_bench.py.)"""

    def __init__(self, width: int, items, parents: int, joins: int, guard: Guard):
        self.items = items
        self.per = np.dtype(items).itemsize * width + 8
        room = max(0, guard.budget - guard.held) // (2 * self.per)
        self.n = 0
        self.sizes = np.zeros(parents, np.int64)
        self._arrays(min(joins, room) if untouched_is_free() else 0, width)

    def _arrays(self, cap: int, width: int) -> None:
        self.rows = np.empty((cap, width), self.items)
        self.totals = np.empty(cap, np.int64)

    def add(self, frequent: np.ndarray, left: np.ndarray, last: np.ndarray, pick: np.ndarray,
            total: np.ndarray, guard: Guard) -> None:
        """A block's frequent sets, candidates ``pick`` of ``left`` and ``last``, with
        their global counts ``total``; checked against the budget as the level grows
        (twice where it grows by copying), so a level of too many sets stops at its first
        block past the budget (longtail at 0.0002: level 4 held 145 M sets, 6 GB, before
        the check at the level's end)."""
        n, more = self.n, len(pick)
        if n + more > len(self.totals):
            guard.check(2 * (n + more) * self.per, "the itemsets found so far")
            old = self.rows, self.totals
            self._arrays(max(2 * len(self.totals), n + more), self.rows.shape[1])
            for new, was in zip((self.rows, self.totals), old):
                new[:n] = was[:n]
        guard.check((n + more) * self.per, "the itemsets found so far")
        C.grown_rows(frequent, left, last, pick, self.rows[n:n + more], self.sizes)
        self.totals[n:n + more] = total
        self.n += more

    def level(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, counts, sibling run lengths) of the sets found."""
        return self.rows[:self.n], self.totals[:self.n], self.sizes


def _union_block(counter: IntersectingCounter, frequent: np.ndarray, partners: np.ndarray,
                 lo: int, hi: int, minc: int, dtype, control, comm: Comm, timer, guard: Guard):
    """Several ranks over tid-lists: the frequent sets grown from parents lo..hi-1 without
    apriori-gen's candidate list. Each rank lists the extensions it counted at least
    ceil(minc / p) times (every frequent set is among them on some rank), the union of
    those lists (Allgathervs) is counted on every rank (its own ones are counted already)
    and reduced. (left, last, the frequent ones' positions in them, their global counts,
    union size, stop), or None on every rank where some rank keeps no tid-lists, or where
    the lists together hold more than UNION_JOINS of the block's joins (then the block's
    candidates are listed). Every rank receives every list, and their length grows with p
    as ceil(minc / p) falls: on
    T10I4D100K 0.0001 (27 M joins) 0.68 M entries at 2 ranks, 2.7 M at 8 (the union took
    0.66x the CPU of listed candidates), 15 M at 16 (1.26x; benchmarks/README.md,
    session 23)."""
    with comm.collective_errors(), timer.phase("count"):
        found = counter.often(frequent, partners, lo, hi, -(-minc // comm.size))
    told = comm.allreduce(np.array([found is None, 0 if found is None else len(found[1])],
                                   np.int64))
    if told[0] or told[1] > UNION_JOINS * int(partners[lo:hi].sum()):
        counter.drop_often()
        return None
    per_row, last, counts, _ = found
    with timer.phase("communicate"):
        per_rank, every = comm.allgatherv(per_row.astype(np.int32)), comm.allgatherv(last)
    with comm.collective_errors(), timer.phase("mine"):
        per_row, last, own = union_runs(per_rank.reshape(comm.size, hi - lo), every, comm.rank)
        guard.check(BYTES * len(last), f"{len(last)} candidates")
        left = np.repeat(np.arange(lo, hi), per_row)
    with comm.collective_errors(), timer.phase("count"):
        local = counter.count_union(frequent, left, last, own, counts)
    pos, total, stop = _reduce_frequent(local.astype(dtype, copy=False), minc,
                                        control.stop_requested(), comm, timer)
    keep = np.zeros(len(left), bool)
    keep[pos] = True
    with comm.collective_errors(), timer.phase("mine"):
        counter.keep_union(keep, own, local)
    return left, last, pos, total, len(last), stop


def _level(frequent: np.ndarray, sizes: np.ndarray, counter, k: int, minc: int, dtype,
           unpruned: int, reserve: bool, control, comm: Comm, timer, guard: Guard):
    """Level k + 1 from the frequent k-itemsets and the lengths of their runs of siblings
    (``sizes``: sets of the same first k - 1 items, which join), generated and counted in blocks
    of parents of about BLOCK candidates (the block's join budget follows the last block's
    candidates per join; the same on every rank, which all see every block's candidates):
    (frequent sets, their counts, their sibling run lengths, candidates, joins, stop). A stop request
    travels in every block's reduce and takes effect at the end of the level, so a partial
    result holds whole levels. Where the counter finds a block's frequent sets itself (one
    rank, tid-lists), there is no candidate list: the extensions it counted stand for the
    candidates. ``reserve``: the level's arrays are reserved for its joins (:class:`_Found`)."""
    with comm.collective_errors(), timer.phase("mine"):
        partners = K.join_partners(sizes)
        work = np.concatenate(([0], np.cumsum(partners + 1)))
        found_sets = _Found(k + 1, frequent.dtype, len(frequent),
                            int(work[-1] - len(partners)) if reserve else 0, guard)
    n, lo, budget, seen, stop = len(frequent), 0, BLOCK, 0, False
    lists = isinstance(counter, IntersectingCounter)
    while lo < n:
        hi = _block_end(work, lo, n, budget)
        found = None
        if lists and comm.size == 1:   # final counts: the frequent sets without candidates
            with comm.collective_errors(), timer.phase("count"):
                found = counter.extend(frequent, partners, lo, hi)
            if found is not None:
                per_row, last, total, counted = found
                left = np.repeat(np.arange(lo, hi), per_row)
                found = left, last, np.arange(len(last)), total, counted, control.stop_requested()
        elif lists:
            found = _union_block(counter, frequent, partners, lo, hi, minc, dtype, control,
                                 comm, timer, guard)
        if found is not None:
            left, last, pick, total, counted, asked = found
            budget = _next_budget(budget, counted)
            seen += counted
            stop = stop or asked
            with comm.collective_errors(), timer.phase("mine"):
                found_sets.add(frequent, left, last, pick, total, guard)
            lo = hi
            continue
        left, last = _candidates(frequent, partners, work, lo, hi, k, unpruned, comm, timer, guard)
        budget = _next_budget(budget, len(left))
        lo = hi
        if len(left) == 0:
            continue
        seen += len(left)
        with comm.collective_errors(), timer.phase("count"):
            local = counter.count(frequent, left, last)
        pos, total, asked = _reduce_frequent(local.astype(dtype, copy=False), minc,
                                             control.stop_requested(), comm, timer)
        stop = stop or asked
        del local
        keep = np.zeros(len(left), bool)
        keep[pos] = True
        with comm.collective_errors(), timer.phase("mine"):
            counter.keep(keep)
            found_sets.add(frequent, left, last, pos, total, guard)
    with comm.collective_errors(), timer.phase("mine"):
        counter.next_level()
        joins = int(partners.sum())
    return *found_sets.level(), seen, joins, stop


def _block_end(work: np.ndarray, lo: int, end: int, budget: int) -> int:
    """The parent after a block from parent ``lo`` of about ``budget`` joins (``work``:
    the parents' cumulative joins + 1), at least one parent and at most up to ``end``."""
    return max(lo + 1, min(end, int(np.searchsorted(work, work[lo] + budget, "right")) - 1))


def _next_budget(budget: int, n: int) -> int:
    """The next block's join budget, after a block of ``budget`` joins gave ``n``
    candidates: about BLOCK candidates, changed at most 8-fold from block to block."""
    return min(8 * budget, max(budget // 8, budget * BLOCK // max(1, n)))


def _share_rows(counter, m: int, comm: Comm, timer, guard: Guard) -> bool:
    """Whether levels 3 on go by Candidate Distribution (:func:`_shared_level`): several
    ranks counting dense data by bitsets on the CPU, where the item bitsets of all rows
    take at most SHARED bytes. Then every rank gathers them all (one Allgatherv, each
    rank's words side by side). Count Distribution splits each candidate's words between
    ranks but repeats its fixed costs on each (its join and prune, the count's setup and
    store, its place in the reduce): on dense-mushroom 0.04 (8,124 rows, 127 words an
    item) its levels took 6.3 s on one rank and 4.1 s on 2, 1.5x."""
    if comm.size == 1 or not isinstance(counter, K.BitsetCpuCounter):
        return False
    words = comm.allgather_counts(counter.bits.shape[1])
    if 8 * m * int(words.sum()) > SHARED:
        return False
    with comm.collective_errors():
        guard.check(16 * m * int(words.sum()), f"the bitsets of all ranks' rows ({m} items)")
    with timer.phase("communicate"):
        every = comm.allgatherv(counter.bits.reshape(-1))
    with comm.collective_errors(), timer.phase("count"):
        cuts = np.cumsum(np.concatenate(([0], m * words)))
        counter.count_all_rows(np.hstack([every[cuts[r]:cuts[r + 1]].reshape(m, -1)
                                          for r in range(comm.size)]))
    return True


def _shared_level(frequent: np.ndarray, sizes: np.ndarray, counter, k: int, minc: int,
                  unpruned: int, control, comm: Comm, timer, guard: Guard):
    """Level k + 1 by Candidate Distribution (``counter`` counts over all rows,
    :func:`_share_rows`): each rank joins, prunes and counts the candidates of its own
    share of the parents (balanced by their joins, in blocks of about BLOCK candidates)
    and keeps the frequent ones, whose counts are global; no candidate or count crosses
    ranks. The ranks' frequent sets are then gathered on every rank (one Allgatherv), in
    level order; their counts stay on the rank that found them, its share of the result.
    Returns what :func:`_level` does, but for the counts: this rank's, then the first row
    of its sets in the level. A stop request takes effect at the end of the level."""
    with comm.collective_errors(), timer.phase("mine"):
        partners = K.join_partners(sizes)
        work = np.concatenate(([0], np.cumsum(partners + 1)))
        bounds = weighted_bounds(work, comm.size)
        a, b = (int(x) for x in bounds[comm.rank:comm.rank + 2])
        found_sets = _Found(k + 1, frequent.dtype, len(frequent), int(work[b] - work[a]) - (b - a),
                            guard)
    lo, budget, seen = a, BLOCK, 0
    with comm.collective_errors():
        while lo < b:
            hi = _block_end(work, lo, b, budget)
            with timer.phase("mine"):
                guard.check(int(work[hi] - work[lo]), f"candidate generation at level {k + 1}")
                per_row, last = C.prune_joins(frequent, partners, lo, hi, unpruned)
                guard.check(BYTES * len(last), f"{len(last)} candidates of level {k + 1}")
                left = np.repeat(np.arange(lo, hi), per_row)
            budget = _next_budget(budget, len(left))
            lo = hi
            seen += len(left)
            with timer.phase("count"):
                local = counter.count(frequent, left, last)
            with timer.phase("mine"):
                pick = np.flatnonzero(local >= minc)
                found_sets.add(frequent, left, last, pick, local[pick], guard)
        rows, total, sizes = found_sets.level()
        told = np.array([seen, control.stop_requested()], np.int64)
    with timer.phase("communicate"):
        told = comm.allreduce(told)
        per_rank = comm.allgather_counts(len(total))
    with comm.collective_errors():
        guard.check(int(per_rank.sum()) * rows.shape[1] * rows.itemsize,
                    "the itemsets found so far")
    with timer.phase("communicate"):
        rows = comm.allgatherv(rows.reshape(-1)).reshape(-1, k + 1)
        comm.allgather_rows(sizes, bounds)   # each rank counted its own parents' children
    return (rows, total, sizes, int(told[0]), int(partners.sum()), bool(told[1]),
            int(per_rank[:comm.rank].sum()))


def list_budget(prep: Prepared, guard: Guard) -> int:
    """Bytes this rank's tid-lists may take: ``LISTS`` times its recoded rows or ``FLOOR``,
    and at most half of what is left of its memory budget (the memory model above)."""
    rows = prep.rows.indptr.nbytes + prep.rows.indices.nbytes
    return int(min(max(LISTS * rows, FLOOR), (guard.budget - guard.held) / 2))


def _streams(prep: Prepared, device: str, guard: Guard) -> bool:
    """Whether this rank's item tid-lists alone would exceed its :func:`list_budget`."""
    if _bitwise(prep, device):
        return False
    return 4 * len(prep.rows.indices) + 8 * (prep.m + 1) > list_budget(prep, guard)


def _bitwise(prep: Prepared, device: str) -> bool:
    """Whether candidates are counted by bitsets over all rows (the device's ``support``
    kernel): dense data, or a GPU."""
    return device != "cpu" or prep.dense


def _counter(prep: Prepared, device: str, guard: Guard, final: bool, stream: bool):
    """The support counter: tid-list intersection for sparse data on the CPU (row chunks
    streamed instead when ``stream``), else the device's ``support`` kernel (bitsets).
    ``final``: one rank, its counts are global."""
    if _bitwise(prep, device):
        return kernels.get("support", device)(prep.rows, prep.m, prep.dense,
                                              guard.check)
    if stream:
        return K.StreamingCounter(prep.rows, prep.m, guard.check)
    return IntersectingCounter(prep.rows, prep.m, guard.check, prep.minc if final else None,
                               list_budget(prep, guard))


def _items(m: int, narrow: bool):
    """The type of the levels' items: uint8 where ``narrow`` (the CPU's bitset counter:
    dense data, few items in many long sets; dense-mushroom 0.04 wrote 1.1 GB of int32
    levels on every rank) and ``m`` items fit, else int32 (the tid-list and GPU counters'
    type; one more type would be one more set of compiled kernels for ``hpcrec warmup``'s
    jobs to miss)."""
    return np.uint8 if narrow and m <= 1 << 8 else np.int32


def mine(prep: Prepared, max_len: int | None, comm: Comm, device: str, control, timer,
         guard: Guard) -> tuple[list, list, list, bool, int]:
    """Levels of frequent itemsets (recoded ids), every one whole on every rank, and this
    rank's share of them for the result: (itemset arrays, count arrays, starts, partial,
    levels), where ``counts[k]`` are the counts of the rows from ``starts[k]`` of
    ``itemsets[k]`` (an even split of a level counted by all ranks, or the sets a rank
    found in a level of :func:`_shared_level`: their counts are not gathered)."""
    m, minc = prep.m, prep.minc
    itemsets, counts, starts = [], [], []

    def found(rows: np.ndarray, total: np.ndarray, start: int | None = None) -> None:
        if start is None:   # counted on every rank: an even share
            start, end = comm.chunk(len(total))
            total = total[start:end]
        itemsets.append(rows)
        counts.append(total)
        starts.append(start)

    found(np.arange(m, dtype=np.int32)[:, None], prep.counts.astype(np.int64))
    limit = max_len or np.inf
    stop = prep.stop
    if stop or m < 2 or limit < 2:
        return itemsets, counts, starts, stop and m >= 2 and limit >= 2, 1
    dtype = np.int32 if prep.n < 2**31 - 1 else np.int64
    with comm.collective_errors(), timer.phase("count"):
        stream = _streams(prep, device, guard)
    stream = comm.allreduce_scalar(int(stream)) > 0   # one level-2 path on every rank
    with comm.collective_errors(), timer.phase("count"):
        counter = _counter(prep, device, guard, comm.size == 1, stream)
    pos, total, local, stop = _pairs(counter, prep, device, dtype, control.stop_requested(),
                                     comm, timer, guard)
    with comm.collective_errors(), timer.phase("mine"):
        frequent = K.decode_pairs(pos, m)
        sizes = np.bincount(frequent[:, 0], minlength=m)   # pairs of the same first item
        counter.keep_pairs(frequent, local)
        frequent = frequent.astype(_items(m, device == "cpu" and prep.dense), copy=False)
        guard.hold(frequent.nbytes + total.nbytes)   # results so far count against later levels
    del local
    found(frequent, total)
    control.level(2, K.n_pairs(m), len(pos))
    k, joins, bitwise = 2, K.n_pairs(m), _bitwise(prep, device)   # level 2: all pairs
    shared = len(frequent) > 1 and k < limit and not stop and \
        _share_rows(counter, m, comm, timer, guard)
    while len(frequent) > 1 and k < limit and not stop:
        unpruned = _unpruned(frequent, joins, prep.n if shared else prep.rows.n_rows) \
            if bitwise else 0
        start, parents = None, PARENT_BYTES * len(frequent)
        with comm.collective_errors():
            guard.check(parents, f"joining the {len(frequent)} sets of level {k}")
        with guard.holding(parents):
            if shared:
                frequent, total, sizes, seen, joins, stop, start = _shared_level(
                    frequent, sizes, counter, k, minc, unpruned, control, comm, timer, guard)
            else:
                frequent, total, sizes, seen, joins, stop = _level(
                    frequent, sizes, counter, k, minc, dtype, unpruned, bitwise, control,
                    comm, timer, guard)
        if len(frequent) == 0:   # the longest sets have k items, whatever candidates
            if seen:             # were counted (unpruned joins depend on the ranks' rows)
                control.level(k + 1, seen, 0)
            break
        k += 1
        guard.hold(frequent.nbytes + total.nbytes)
        found(frequent, total, start)
        control.level(k, seen, len(frequent))
    return itemsets, counts, starts, stop and len(frequent) > 1 and k < limit, k
