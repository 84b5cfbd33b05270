"""One entry point for all four algorithms: input slice in, the global result out.

Validates arguments with mlxtend's messages, reads this rank's transactions, runs the
chosen distributed miner, maps recoded items back to column indices and gathers the
itemsets on every rank in canonical order.
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
from .result import Itemsets, decoded, sorted_records

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


def mine_itemsets(source, min_support: float, algorithm: str = "fpgrowth", max_len=None,
                  comm: Comm | None = None, device: str = "cpu", *, progress: bool = False,
                  context: RunContext | None = None) -> Itemsets:
    """Frequent (for fpmax maximal, for fpclose closed) itemsets of ``source`` on all ranks
    of ``comm``, with progress lines on rank 0 if ``progress``. A caller that built a run
    ``context`` passes it instead of ``comm``, ``device`` and ``progress``; its stop request
    (signal, time limit) ends apriori after a level, the others after a batch of groups;
    the result is then flagged ``partial``."""
    comm = context.comm if context is not None else resolve(comm)
    with comm.collective_errors():
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
    if algorithm == "apriori":
        levels, counts, partial, done = count_distribution.mine(prep, max_len, comm, device, control, timer, guard)
        with comm.collective_errors():   # concatenation and canonical order make copies
            guard.check(2 * sum(f.nbytes + c.nbytes for f, c in zip(levels, counts)),
                        "ordering the itemsets found")
        flat = np.concatenate([f.reshape(-1) for f in levels])
        lengths = np.concatenate([np.full(len(f), f.shape[1], np.int64) for f in levels])
        cnt = np.concatenate(counts)
        del levels, counts
    else:
        flat, lengths, cnt, partial = pfp.mine(prep, max_len, comm, algorithm, control, timer, guard)
        if comm.size > 1:   # one rank: its arrays are the result (the ordering copies them)
            flat, lengths, cnt = (comm.allgatherv(np.ascontiguousarray(a))
                                  for a in (flat, lengths, cnt))
        done = 0 if partial else int(lengths.max(initial=0))  # no length is complete
    with timer.phase("mine"):   # the miner's arrays are dropped before the result is written
        ordered = sorted_records(flat, lengths, cnt, recode=prep.order)
        del flat, lengths, cnt
        items, ptr, cnt = decoded(*ordered)
        del ordered
    timer.count("itemsets", len(cnt))
    return Itemsets(items, ptr, cnt, prep.n, prep.labels, partial, done,
                    {"algorithm": algorithm, "min_support": float(min_support), "max_len": max_len,
                     "ranks": comm.size, "device": device})
