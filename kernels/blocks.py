"""Records (:mod:`hpcrec.kernels.order`'s layouts) dealt to the ranks' blocks of the
canonical order by splitters, before any of them is sorted.

A distributed miner leaves each rank a share of the itemsets in no particular order. Every
rank offers a sample of its records' sort keys; the sorted samples' quantiles (splitters)
cut the canonical order into one block per rank; each rank sends every record to the
block it falls in (:func:`deal`), and each rank sorts only the block it receives. Every
record is sorted once, on the rank that keeps it: no rank sorts a share and then merges
sorted runs again. A record's sort key is its key words (the itemset's length and items,
compared word by word as int64) or, in the mask layout, the pair (length, complemented
mask), which orders the itemsets as :func:`~hpcrec.kernels.order.mask_buckets` does (over
two mask words the triple (length, complemented words), as
:func:`~hpcrec.kernels.order.mask2_buckets` and the sort of its keys do).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .order import MASK_WORD, counts_to_starts, ends_to_bounds
from .support import popcount


@njit(cache=True, inline="always")
def _key(rec, x, t, n_words, width):
    """Word t of record x's sort key (``width`` > 0: the mask layout over ``width`` items;
    ``n_words`` is then 2, over two mask words 3)."""
    if width == 0:
        return rec[x, t]
    if width <= MASK_WORD:
        q = rec[x, 0]
        if t == 0:
            return np.int64(popcount(np.uint64(q)))
        return ((np.int64(1) << width) - 1) ^ q
    if t == 0:
        return np.int64(popcount(np.uint64(rec[x, 0])) + popcount(np.uint64(rec[x, 1])))
    if t == 1:
        return ((np.int64(1) << MASK_WORD) - 1) ^ rec[x, 0]
    return ((np.int64(1) << (width - MASK_WORD)) - 1) ^ rec[x, 1]


@njit(cache=True)
def sort_keys(rec, at, n_words, width):
    """The sort keys (len(at), n_words) of the records ``at``."""
    out = np.empty((len(at), n_words), np.int64)
    for i in range(len(at)):
        for t in range(n_words):
            out[i, t] = _key(rec, at[i], t, n_words, width)
    return out


@njit(cache=True, inline="always")
def _below(rec, x, spl, s, n_words, width):
    """Whether record x's key is below splitter s."""
    for t in range(n_words):
        k = _key(rec, x, t, n_words, width)
        if k != spl[s, t]:
            return k < spl[s, t]
    return False


@njit(cache=True)
def deal(rec, n_words, width, spl, out):
    """The records ``rec`` grouped by the block they fall in, into ``out`` (``rec``'s
    shape), each group in its given order: block b holds the keys at or above splitter
    b - 1 and below splitter b (``spl``: (blocks - 1, n_words), sorted). Returns the
    records of each block."""
    n_blocks = spl.shape[0] + 1
    dest = np.empty(rec.shape[0], np.int32)
    per = np.zeros(n_blocks, np.int64)
    for x in range(rec.shape[0]):
        lo, hi = 0, n_blocks - 1   # the first splitter above the key (log2 of the ranks' steps)
        while lo < hi:
            mid = (lo + hi) // 2
            if _below(rec, x, spl, mid, n_words, width):
                hi = mid
            else:
                lo = mid + 1
        dest[x] = lo
        per[lo] += 1
    at = np.zeros(n_blocks, np.int64)
    for b in range(1, n_blocks):
        at[b] = at[b - 1] + per[b - 1]
    for x in range(rec.shape[0]):
        b = dest[x]
        for t in range(rec.shape[1]):   # word by word: a row slice per record is slow
            out[at[b], t] = rec[x, t]
        at[b] += 1
    return per


@njit(cache=True)
def pieces(start, cuts):
    """The keys of buckets (bounds ``start``) lying bucket after bucket, cut into blocks at
    positions ``cuts`` (ascending, from 0 to the keys' number): each block's pieces in
    order, as (bucket, keys in it), and the pieces of each block."""
    n_blocks = len(cuts) - 1
    most = n_blocks   # a piece per bucket used, and one more per cut inside a bucket
    for b in range(len(start) - 1):
        most += start[b + 1] > start[b]
    ids = np.empty(most, np.int64)
    counts = np.empty(most, np.int64)
    per = np.zeros(n_blocks, np.int64)
    n, d = 0, 0
    for b in range(len(start) - 1):
        lo = start[b]
        while lo < start[b + 1]:
            while cuts[d + 1] <= lo:
                d += 1
            hi = min(start[b + 1], cuts[d + 1])
            ids[n], counts[n] = b, hi - lo
            per[d] += 1
            n += 1
            lo = hi
    return ids[:n], counts[:n], per


@njit(cache=True)
def placed(keys, ids, counts, start, out):
    """The pieces of buckets (:func:`pieces`: ``keys`` back to back, piece i ``counts[i]``
    keys of bucket ``ids[i]``) into ``out`` bucket by bucket, each bucket's pieces in the
    order given; ``start`` (one more than the buckets) gets the buckets' bounds."""
    start[:] = 0
    for i in range(len(ids)):
        start[ids[i]] += counts[i]
    counts_to_starts(start)
    at = 0
    for i in range(len(ids)):
        b, c = ids[i], counts[i]
        out[start[b]:start[b] + c] = keys[at:at + c]
        start[b] += c
        at += c
    ends_to_bounds(start)
