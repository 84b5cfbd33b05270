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
from .result import (
    Itemsets,
    Keys,
    Records,
    bucket_lengths,
    bucketed_keys,
    decoded,
    level_records,
    mask_form,
    sort_in_buckets,
    sorted_records,
    two_word_keys,
)

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


def ordered_records(recs: Records, comm: Comm, result_on: str, longest: int | None = None):
    """The canonical :class:`~hpcrec.fim.result.Records` (or, in the mask layout,
    :class:`~hpcrec.fim.result.Keys`) of every rank's share ``recs`` of the itemsets
    (records of one layout on every rank but their number of key words: the most of any
    rank is taken), on every rank (``result_on="all"``), on rank 0 only (``"root"``;
    ``None`` elsewhere), or as one block of the canonical order per rank (``"blocks"``:
    rank 0's block first). A sample sort (:mod:`hpcrec.kernels.blocks`): the shares are
    dealt, unsorted, to the ranks' blocks by splitters (:func:`splitters`, one all-to-all
    exchange), and each rank sorts the block it receives; for ``"all"`` and ``"root"``
    the sorted blocks are then gathered, their concatenation in rank order being the
    whole order (no merge). Every record is sorted once, on one rank (where the keys take
    buckets, :func:`_bucket_block`, the few buckets a splitter falls in twice). Shares
    hold distinct itemsets, so the blocks equal a sort of the whole. ``longest``: the
    most items of a set on any rank, if known."""
    n_items = int(comm.allreduce_scalar(recs.n_items, "sum"))
    form, lengths = recs.form, 0
    if form is not None:   # every rank's keys take the same form, in a table of one shape
        if longest is None:
            longest = int(comm.allreduce_scalar(recs.longest if form.words == 2 else 0, "max"))
        lengths = bucket_lengths(form, longest, int(comm.allreduce_scalar(len(recs.rec))))
    if lengths:
        mine = _bucket_block(recs, lengths, comm)
    else:
        mine = _record_block(recs, comm)
    del recs
    if result_on == "blocks":
        return mine
    gather = comm.gatherv if result_on == "root" else comm.allgatherv
    if form is not None:   # each bucket's keys lie block after block: the bounds add up
        start = comm.allreduce(mine.start.copy())
        keys = gather(mine.keys.reshape(-1))   # two mask words: rows of two-word keys
        if keys is not None and mine.keys.ndim == 2:
            keys = keys.reshape(-1, 2)
        return None if keys is None else Keys(keys, start, n_items, form)
    rows = gather(mine.rec.reshape(-1))
    return None if rows is None else Records(rows.reshape(-1, mine.rec.shape[1]), mine.layout,
                                             n_items)


def _record_block(recs: Records, comm: Comm) -> Records | Keys:
    """This rank's block of the canonical order, sorted, from every rank's records: each
    record dealt to its block by its sort key (records of the mask layout in two words
    whose buckets would be too many become two-word :class:`Keys`)."""
    from ..kernels import blocks, order
    form = recs.form
    if form is None:
        words = int(comm.allreduce_scalar(recs.layout[3], "max"))
        lay = (*recs.layout[:3], words)
        rec, key_words, width = order.widened(recs.rec, words), words, 0
    else:   # sorted as (length, complemented mask words), as their keys order them
        lay, rec, key_words, width = recs.layout, recs.rec, 1 + form.words, form.width
    del recs
    spl = splitters(len(rec), lambda at, rec=rec: blocks.sort_keys(rec, at, key_words, width), comm)
    dealt = np.empty_like(rec)
    per = blocks.deal(rec, key_words, width, spl, dealt)
    del rec
    got, _ = comm.alltoallv(dealt.reshape(-1), per * dealt.shape[1])
    got = got.reshape(-1, dealt.shape[1])
    if form is not None:
        del dealt
        mine = two_word_keys(Records(got, lay, 0, form))
        return mine._replace(n_items=int(np.diff(mine.start) @ np.arange(len(mine.start) - 1)))
    done = _scratch(dealt, got)
    del dealt
    order.sort_records(got, done, words)
    return Records(done, lay, int((done[:, 0] >> (lay[0] * lay[1])).sum()))


def _bucket_block(recs: Records, lengths: int, comm: Comm) -> Keys:
    """This rank's block of the canonical order as sorted :class:`Keys`, from every rank's
    records of the mask layout: each rank scatters its own records into the buckets of
    (length, top mask bits) (:func:`~hpcrec.kernels.order.mask_buckets`), which are in
    canonical order already; a splitter (bucket, key) cuts the buckets there, only the
    bucket it falls in sorted to find the cut; each rank sends its keys block by block
    (8 bytes a set, no record dealt one by one) with the pieces of buckets they fill
    (:func:`~hpcrec.kernels.blocks.pieces`), and places the keys it receives bucket by
    bucket (:func:`~hpcrec.kernels.blocks.placed`) before sorting each bucket."""
    from ..kernels import blocks
    form = recs.form
    keys, start = bucketed_keys(recs, lengths)
    del recs
    spl = splitters(len(keys), lambda at, keys=keys: np.stack(
        (np.searchsorted(start, at, "right") - 1, keys[at]), axis=1), comm,
        lambda offered: (offered[:, 0] >> form.split) + SET_ITEMS)
    cuts = np.zeros(comm.size + 1, np.int64)
    cuts[-1] = len(keys)
    for s, (b, k) in enumerate(spl):
        lo, hi = start[b], start[b + 1]
        if s == 0 or b != spl[s - 1, 0]:
            keys[lo:hi].sort()
        cuts[s + 1] = lo + np.searchsorted(keys[lo:hi], k)
    ids, counts, per = blocks.pieces(start, cuts)
    got, _ = comm.alltoallv(keys, np.diff(cuts))
    made, _ = comm.alltoallv(np.stack((ids, counts), axis=1), 2 * per)
    mine = _scratch(keys, got)   # into the keys sent (and the bounds into their table)
    del keys
    blocks.placed(got, made[0::2], made[1::2], start, mine)
    del got
    sort_in_buckets(mine, start)
    n_items = int(np.diff(start) @ (np.arange(len(start) - 1) >> form.split))
    return Keys(mine, start, n_items, form)


def _scratch(spare: np.ndarray, like: np.ndarray) -> np.ndarray:
    """An array of ``like``'s shape and dtype for the sort to write: the front of
    ``spare`` (the records or keys sent, no longer needed) where it is large enough, else a new
    one; either way none that a Numba function allocates (NumPy asks the kernel for huge
    pages for a large array; an array allocated in a Numba function is faulted in 4 kB
    pages: a rank of 2 took 57 thousand more faults on dm 0.05, benchmarks/README.md,
    session 17). Reusing saves faulting in (zeroing) a block of records."""
    flat = spare.reshape(-1)
    if flat.size >= like.size and not np.may_share_memory(flat, like):
        return flat[:like.size].reshape(like.shape)
    return np.empty_like(like)


SAMPLES = 64   # sort keys offered, on average, per rank and block (the sample sort)
SET_ITEMS = 10  # a block of keys weighs a set as its items and this many more (offset, count, sort)


def splitters(n: int, sample, comm: Comm, weight=None) -> np.ndarray:
    """The ``size - 1`` splitters (sort keys) that cut the canonical order of every rank's
    ``n`` records into blocks of about equal numbers of itemsets: every rank offers evenly
    spaced records (``sample(at)``: the sort keys, one row each, of its records at
    positions ``at``), ``SAMPLES * size`` per rank in all, in proportion to its share; the
    splitters are the sorted offers' quantiles (by ``weight(keys)`` of the offers, if
    given). Keys are distinct over all ranks, so each record falls in exactly one block."""
    total = int(comm.allreduce_scalar(n))
    take = min(n, -(-SAMPLES * comm.size * comm.size * n // max(total, 1)))
    offered = np.asarray(sample((np.arange(take, dtype=np.int64) * n) // max(take, 1)), np.int64)
    key_words = offered.shape[1]
    offered = comm.allgatherv(offered.reshape(-1)).reshape(-1, key_words)
    offered = offered[np.lexsort(offered.T[::-1])]
    if not len(offered):
        return np.zeros((comm.size - 1, key_words), np.int64)
    upto = np.cumsum(np.ones(len(offered)) if weight is None else weight(offered))
    at = np.searchsorted(upto, upto[-1] * np.arange(1, comm.size) / comm.size, "right")
    return np.ascontiguousarray(offered[np.minimum(at, len(offered) - 1)])


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
    form = mask_form(prep.order, prep.n)   # the mask layout, where the items fit two words
    if algorithm == "apriori":
        levels, counts, starts, partial, done = count_distribution.mine(
            prep, max_len, comm, device, control, timer, guard)
        with comm.collective_errors():   # the records and their canonical order make copies
            guard.check(2 * sum(len(c) * (f.itemsize * f.shape[1] + 8) for f, c in zip(levels, counts)),
                        "ordering the itemsets found")
        with timer.phase("mine"):   # each rank orders its share of the levels
            recs = level_records(levels, counts, starts, prep.order, form)
        del levels, counts
        longest = None   # of the records: found when they are sorted
    else:
        recs, partial = pfp.mine(prep, max_len, comm, algorithm, control, timer, guard, form)
        longest = int(comm.allreduce_scalar(recs.longest, "max"))
        done = 0 if partial else longest
    with timer.phase("mine"):   # the miner's arrays are dropped before the result is written
        items, ptr, cnt = np.zeros(0, np.int32), np.zeros(1, np.int64), np.zeros(0, np.int64)
        ordered = ordered_records(recs, comm, result_on, longest) if comm.size > 1 else \
            sorted_records(recs, longest)
        del recs
        if ordered is not None:
            items, ptr, cnt = decoded(ordered)
        del ordered
    timer.count("itemsets", len(cnt))
    return Itemsets(items, ptr, cnt, prep.n, prep.labels, partial, done,
                    {"algorithm": algorithm, "min_support": float(min_support), "max_len": max_len,
                     "ranks": comm.size, "device": device})
