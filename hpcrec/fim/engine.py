"""One entry point for all four algorithms: input slice in, the global result out.

Validates arguments with mlxtend's messages, reads this rank's transactions, runs the
chosen distributed miner, maps recoded items back to column indices and assembles the
itemsets in canonical order on every rank (the Python API), on rank 0 alone (the CLI
writing CSV or Parquet there) or as one block of that order per rank (the CLI writing
HDF5, each rank its block).
"""
from __future__ import annotations

import logging
import numbers

import numpy as np

from .. import kernels
from ..core.comm import Comm, resolve
from ..core.context import RunContext
from ..core.errors import InputError
from . import count_distribution, pfp
from .control import Control
from .prepare import local_transactions, prepare
from .result import Itemsets, Keys, Records, decoded, mask_form, records, sorted_records

ALGORITHMS = ("apriori", "fpgrowth", "fpmax", "fpclose")
HINT = "raise min_support, set max_len, or run on more ranks / nodes"
log = logging.getLogger("hpcrec")


def check_arguments(min_support, max_len) -> None:
    if isinstance(min_support, bool) or not isinstance(min_support, numbers.Real) \
            or not 0.0 < min_support <= 1.0:
        raise InputError("`min_support` must be a positive number within the interval `(0, 1]`. "
                         f"Got {min_support}.")
    if max_len is not None and (isinstance(max_len, bool) or not isinstance(max_len, numbers.Integral)
                                or max_len < 1):
        raise InputError(f"`max_len` must be a positive integer or None. Got {max_len!r}.")


def merged_records(recs: Records, comm: Comm, result_on: str):
    """The canonical :class:`~hpcrec.fim.result.Records` of every rank's share ``recs`` of
    the itemsets (records of one layout on every rank but their number of key words:
    the most of any rank is taken), on every rank (``result_on="all"``), on rank 0 only
    (``"root"``; ``None`` elsewhere), or as one block of the canonical order per rank
    (``"blocks"``: rank 0's block first; :func:`block_cuts`, one all-to-all exchange).
    Each rank sorts its own share, the sorted shares are gathered and merged
    (:mod:`hpcrec.kernels.merge`): the sort runs in parallel and only the linear merge
    runs on the receiving ranks. Shares hold distinct itemsets, so the merge equals a sort
    of the whole. Records of the mask layout are sorted as keys and merged as rows
    (bucket, key) (:class:`~hpcrec.fim.result.Keys`); they come back as sorted keys."""
    from ..kernels import merge, order
    n_items = int(comm.allreduce_scalar(recs.n_items, "sum"))
    form = recs.form
    if form is None:
        words = int(comm.allreduce_scalar(recs.layout[3], "max"))
        lay = (*recs.layout[:3], words)
        spare = order.widened(recs.rec, words)   # the sort's scratch, then the merge's
        mine = sorted_records(Records(spare, lay, recs.n_items)).rec
    else:   # the rows written over the records, which the sort has read
        words, spare = 2, recs.rec
        mine = sorted_records(recs).rows(recs.rec)
    del recs
    cols = mine.shape[1]

    def result(rows, n):
        if form is not None:
            return Keys.from_rows(rows, form)
        return Records(rows, lay, int((rows[:, 0] >> (lay[0] * lay[1])).sum()) if n is None else n)
    if result_on == "blocks":
        cuts = block_cuts(mine, words, comm)
        got, sizes = comm.alltoallv(mine.reshape(-1), np.diff(cuts) * cols)
        del mine
        runs = np.concatenate(([0], np.cumsum(sizes // cols)))
        got = got.reshape(-1, cols)
        return result(merge.merge_runs(got, runs, words, _scratch(spare, got)), None)
    runs = np.concatenate(([0], np.cumsum(comm.allgather_counts(len(mine)))))
    whole = comm.gatherv(mine.reshape(-1)) if result_on == "root" else \
        comm.allgatherv(mine.reshape(-1))
    del mine
    if whole is None:
        return None
    whole = whole.reshape(-1, cols)
    return result(merge.merge_runs(whole, runs, words, _scratch(spare, whole)), n_items)


def _scratch(spare: np.ndarray, like: np.ndarray) -> np.ndarray:
    """An array of ``like``'s shape and dtype for the merge to write: the front of
    ``spare`` (the sort's scratch, no longer needed; usually the caller's array) where it
    is large enough and is not ``like`` itself (a one-rank gather may hand back the sent
    array), else a new one; either way none that a Numba function allocates
    (:func:`hpcrec.kernels.merge.merge_runs`). Reusing saves faulting in (zeroing) a
    block of records, 0.2 GB a rank of 2 on dm 0.05."""
    flat = spare.reshape(-1)
    if flat.size >= like.size and not np.may_share_memory(flat, like):
        return flat[:like.size].reshape(like.shape)
    return np.empty_like(like)


SAMPLES = 64   # records offered, on average, per rank and block (the sample sort)


def block_cuts(rec: np.ndarray, n_words: int, comm: Comm) -> np.ndarray:
    """Where this rank's sorted records ``rec`` split into the ranks' blocks: ``size + 1``
    positions, ``rec[cuts[r]:cuts[r + 1]]`` going to rank r, so that rank r's block
    precedes rank r + 1's in the canonical order (a sample sort's splitters: every rank
    offers evenly spaced records, ``SAMPLES * size`` per rank in all, in proportion to its
    share; the boundaries are the sorted offers' quantiles; blocks then hold about equal
    numbers of itemsets). Keys are distinct over
    all ranks, so each record goes to exactly one block."""
    width = rec.shape[1]
    total = int(comm.allreduce_scalar(len(rec)))
    take = min(len(rec), -(-SAMPLES * comm.size * comm.size * len(rec) // max(total, 1)))
    at = (np.arange(take, dtype=np.int64) * len(rec)) // max(take, 1)
    offered = comm.allgatherv(np.ascontiguousarray(rec[at]).reshape(-1)).reshape(-1, width)
    keys = sorted(tuple(row[:n_words]) for row in offered.tolist())
    splitters = [keys[(len(keys) * r) // comm.size] for r in range(1, comm.size)] \
        if keys else []

    def lower_bound(key) -> int:   # first record not below key (binary search)
        lo, hi = 0, len(rec)
        while lo < hi:
            mid = (lo + hi) // 2
            if tuple(rec[mid, :n_words].tolist()) < key:
                lo = mid + 1
            else:
                hi = mid
        return lo

    inner = [lower_bound(k) for k in splitters] if splitters else [0] * (comm.size - 1)
    return np.array([0, *inner, len(rec)], dtype=np.int64)


def mine_itemsets(source, min_support: float, algorithm: str = "fpgrowth", max_len=None,
                  comm: Comm | None = None, device: str = "cpu", *, progress: bool = False,
                  context: RunContext | None = None, result_on: str = "all") -> Itemsets:
    """Frequent (for fpmax maximal, for fpclose closed) itemsets of ``source`` on all ranks
    of ``comm``, with progress lines on rank 0 if ``progress``. A caller that built a run
    ``context`` passes it instead of ``comm``, ``device`` and ``progress``; its stop request
    (signal, time limit) ends apriori after a level, the others after a batch of groups;
    the result is then flagged ``partial``. ``result_on="root"`` (what ``hpcrec mine``
    asks for: rank 0 writes the file) assembles the itemsets on rank 0 only; the other
    ranks get the result's metadata with no itemsets (length 0). ``result_on="blocks"``
    (``hpcrec mine`` to HDF5: every rank writes its part of the file) leaves on each rank
    a block of the canonical order, the blocks in rank order making up the whole (on one
    rank, and for apriori, rank 0 holds the whole)."""
    comm = context.comm if context is not None else resolve(comm)
    with comm.collective_errors():
        if result_on not in ("all", "root", "blocks"):
            raise InputError(f"result_on must be 'all', 'root' or 'blocks', got {result_on!r}")
        check_arguments(min_support, max_len)
        min_support = float(min_support)  # compared as float64, as mlxtend does
        if algorithm not in ALGORITHMS:
            raise InputError(f"unknown algorithm {algorithm!r}: choose one of {', '.join(ALGORITHMS)}")
    ctx = context or RunContext.build(comm, device, progress=progress)
    device, timer, control = ctx.device, ctx.timer, Control(ctx)
    if not kernels.has("support" if algorithm == "apriori" else "projected", device):
        log.warning("%s mines on the CPU; the GPU counts supports for apriori only", algorithm)
        device = "cpu"
    with timer.phase("read"):
        tx = local_transactions(source, comm)
    guard = ctx.memory.guard(HINT)
    with timer.phase("count"):
        prep = prepare(tx, min_support, comm, control)
    del tx   # the recoded rows replace them: read data not held while mining (docs/fim.md)
    if prep.n == 0:
        raise InputError("no transactions to mine (the input is empty)")
    form = mask_form(prep.order, prep.n)   # the mask layout, where the items fit one word
    if algorithm == "apriori":
        levels, counts, partial, done = count_distribution.mine(prep, max_len, comm, device, control, timer, guard)
        with comm.collective_errors():   # concatenation and canonical order make copies
            guard.check(2 * sum(f.nbytes + c.nbytes for f, c in zip(levels, counts)),
                        "ordering the itemsets found")
        flat = np.concatenate([f.reshape(-1) for f in levels])
        lengths = np.concatenate([np.full(len(f), f.shape[1], np.int64) for f in levels])
        cnt = np.concatenate(counts)
        del levels, counts
        with timer.phase("mine"):   # the levels are global: every rank holds them all
            recs = records(flat, lengths, cnt, recode=prep.order, form=form) \
                if result_on == "all" or comm.is_root else None
        del flat, lengths, cnt
    else:
        recs, partial = pfp.mine(prep, max_len, comm, algorithm, control, timer, guard, form)
        done = 0 if partial else int(comm.allreduce_scalar(recs.longest, "max"))
    with timer.phase("mine"):   # the miner's arrays are dropped before the result is written
        items, ptr, cnt = np.zeros(0, np.int32), np.zeros(1, np.int64), np.zeros(0, np.int64)
        ordered = None
        if comm.size > 1 and algorithm != "apriori":
            ordered = merged_records(recs, comm, result_on)
        elif recs is not None:
            ordered = sorted_records(recs)
        del recs
        if ordered is not None:
            items, ptr, cnt = decoded(ordered)
        del ordered
    timer.count("itemsets", len(cnt))
    return Itemsets(items, ptr, cnt, prep.n, prep.labels, partial, done,
                    {"algorithm": algorithm, "min_support": float(min_support), "max_len": max_len,
                     "ranks": comm.size, "device": device})
