"""Numba kernels that lay out sparse (COO) entries: sorting permutations by counting sort.

A comparison sort of n entries by two or three keys (``np.lexsort``) costs seconds at
10^7 entries; two counting-sort passes cost O(n + n_rows + n_cols) and give the same
stable order. Only runs of entries with equal (row, col) still need a comparison sort,
and those are short. :func:`csr_defect` checks a CSR pattern's invariants in one pass.
"""
from __future__ import annotations

import numpy as np
from numba import njit

_SHORT_RUN = 16  # runs up to this length are insertion-sorted


@njit(cache=True)
def csr_permutation(rows, cols, n_rows, n_cols):
    """(ptr, order): row pointers and the permutation sorting COO entries by (row, col),
    stable, by two counting-sort passes (columns, then rows): O(nnz + n_rows + n_cols)."""
    by_col = np.empty(rows.size, np.int64)
    nxt = np.zeros(n_cols + 1, np.int64)
    for c in cols:
        nxt[c + 1] += 1
    for c in range(n_cols):
        nxt[c + 1] += nxt[c]
    for p in range(cols.size):
        by_col[nxt[cols[p]]] = p
        nxt[cols[p]] += 1
    ptr = np.zeros(n_rows + 1, np.int64)
    for r in rows:
        ptr[r + 1] += 1
    for r in range(n_rows):
        ptr[r + 1] += ptr[r]
    fill = ptr[:-1].copy()
    order = np.empty(rows.size, np.int64)
    for p in by_col:
        order[fill[rows[p]]] = p
        fill[rows[p]] += 1
    return ptr, order


@njit(cache=True)
def sort_ties(order, rows, cols, key):
    """Sort, in place and stably, every run of ``order`` whose entries share (row, col) by
    ``key``: turns the (row, col) order of :func:`csr_permutation` into the order of
    ``np.lexsort((key, cols, rows))``."""
    n = order.size
    start = 0
    while start < n:
        end = start + 1
        while (end < n and rows[order[end]] == rows[order[start]]
               and cols[order[end]] == cols[order[start]]):
            end += 1
        if end - start > _SHORT_RUN:
            run = order[start:end].copy()
            order[start:end] = run[np.argsort(key[run], kind="mergesort")]
        else:
            for a in range(start + 1, end):  # insertion sort: stable, fast on short runs
                x = order[a]
                b = a - 1
                while b >= start and key[order[b]] > key[x]:
                    order[b + 1] = order[b]
                    b -= 1
                order[b + 1] = x
        start = end


@njit(inline="always")
def _mix(x):
    """SplitMix64's finalizer: a bijection of uint64 that scatters every input bit."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@njit(cache=True)
def entry_keys(base, rows, cols, bits):
    """A pseudo-random uint64 per entry from ``base`` and the entry's (row, col, value
    bits) alone: a seeded shuffle that does not depend on the entries' order or place."""
    out = np.empty(rows.size, np.uint64)
    for n in range(rows.size):
        x = _mix(base ^ ((np.uint64(rows[n]) << np.uint64(32)) | np.uint64(cols[n])))
        out[n] = _mix(x ^ np.uint64(bits[n]))
    return out


@njit(cache=True, nogil=True)
def csr_defect(indptr, indices, n_cols):
    """What is wrong with a CSR pattern, in one pass: 0 nothing, 1 the row pointers (not
    from 0, decreasing, or not ending at len(indices)), 2 an index outside 0..n_cols-1,
    3 indices not strictly increasing within a row (2 wins over 3 wherever they are)."""
    n = len(indptr) - 1
    if n < 0 or indptr[0] != 0 or indptr[n] != len(indices):
        return 1
    for r in range(n):
        if indptr[r + 1] < indptr[r]:
            return 1
    unordered = False
    for r in range(n):
        prev = -1
        for j in range(indptr[r], indptr[r + 1]):
            c = indices[j]
            if c < 0 or c >= n_cols:
                return 2
            if c <= prev:
                unordered = True
            prev = c
    return 3 if unordered else 0
