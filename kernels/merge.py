"""Merge of sorted runs of records (:mod:`hpcrec.kernels.order`'s layout) into one sorted run.

Each rank of a distributed miner sorts its own share of the itemsets; rank 0 receives the
sorted shares back to back and merges them in ``ceil(log2(runs))`` sequential passes of
pairwise merges, instead of sorting the whole result again. Records compare by their first
``n_words`` words (the key; a column after them, the count, rides along); equal keys keep
their run order (the merge is stable), so the result does not depend on how ties are broken.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .order import row_less


@njit(cache=True)
def _merge_two(src, lo, mid, hi, dst, n_words):
    i, j, at = lo, mid, lo
    while i < mid and j < hi:
        if row_less(src, j, i, n_words):   # strictly smaller: ties take the left run
            dst[at] = src[j]
            j += 1
        else:
            dst[at] = src[i]
            i += 1
        at += 1
    while i < mid:
        dst[at] = src[i]
        i += 1
        at += 1
    while j < hi:
        dst[at] = src[j]
        j += 1
        at += 1


@njit(cache=True)
def merge_runs(rec, bounds, n_words, dst):
    """The records ``rec`` (n, words + 1; or n, words: no count), sorted within each run
    ``bounds[r]:bounds[r+1]``, as one sorted array: ``rec`` or ``dst`` (scratch of
    ``rec``'s shape; ``rec`` is scratch too). The caller allocates ``dst``: NumPy asks the
    kernel for huge pages for a large array, an array allocated in a Numba function is
    faulted in 4 kB pages (a rank of 2 took 57 thousand faults here on dm 0.05, more than
    one rank's whole run)."""
    b = bounds.copy()
    src = rec
    while len(b) > 2:
        nb = [b[0]]
        for r in range(0, len(b) - 1, 2):
            if r + 2 < len(b):
                _merge_two(src, b[r], b[r + 1], b[r + 2], dst, n_words)
                nb.append(b[r + 2])
            else:               # odd run out: copied over as it is
                dst[b[r]:b[r + 1]] = src[b[r]:b[r + 1]]
                nb.append(b[r + 1])
        b = np.array(nb, np.int64)
        src, dst = dst, src
    return src
