"""Frequent itemsets among the few most frequent items, from one histogram of row masks (Numba).

Every itemset whose items are all below ``k`` (recoded: the k most frequent items) is a
subset of the row mask ``{items of the row below k}`` of each row holding it, so its count
is the sum of the mask histogram over its supersets (a superset-sum transform, k 2^k
additions). Their conditional databases are the largest in rows (every transaction holds
some of these items) and the smallest in content, so this replaces them outright.
"""
from __future__ import annotations

import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import trailing_zeros

from .support import popcount

BITS = 16   # items counted this way: 2^16 masks, an Allreduce of 512 KiB


@njit(cache=True)
def mask_histogram(indptr, indices, k):
    """How many rows have each subset (bit mask) of the items ``0..k-1`` (rows sorted)."""
    hist = np.zeros(1 << k, np.int64)
    for r in range(len(indptr) - 1):
        mask = 0
        for p in range(indptr[r], indptr[r + 1]):
            if indices[p] >= k:
                break
            mask |= 1 << indices[p]
        hist[mask] += 1
    return hist


@njit(cache=True)
def frequent_subsets(hist, k, minc, max_len):
    """(flat items, lengths, counts) of the non-empty subsets of ``0..k-1`` with at least
    ``minc`` rows and at most ``max_len`` items (<= 0: any), from the histogram of masks.
    The transform adds blocks of 2^b masks to the blocks beside them (a loop the compiler
    vectorizes, not a test of bit b per mask), and a set's items are its mask's bits,
    taken lowest first (its length: as many steps, only for the frequent masks)."""
    f = hist.copy()
    full = 1 << k
    for b in range(k):
        half = 1 << b
        for base in range(0, full, 2 * half):
            for mask in range(base, base + half):
                f[mask] += f[mask + half]
    n, total = 0, 0
    for mask in range(1, full):
        if f[mask] >= minc:
            size = np.int64(popcount(np.uint64(mask)))
            if max_len <= 0 or size <= max_len:
                n += 1
                total += size
    flat = np.empty(total, np.int32)
    lengths = np.empty(n, np.int64)
    counts = np.empty(n, np.int64)
    x, q = 0, 0
    for mask in range(1, full):
        if f[mask] >= minc:
            size = np.int64(popcount(np.uint64(mask)))
            if max_len <= 0 or size <= max_len:
                bits = np.int64(mask)
                while bits != 0:
                    flat[q] = trailing_zeros(bits)
                    q += 1
                    bits &= bits - 1
                lengths[x] = size
                counts[x] = f[mask]
                x += 1
    return flat, lengths, counts
