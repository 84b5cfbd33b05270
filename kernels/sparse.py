"""Numba kernels that lay out sparse (COO) entries: sorting permutations by counting sort.

A comparison sort of n entries by two or three keys (``np.lexsort``) costs seconds at
10^7 entries; two counting-sort passes cost O(n + n_rows + n_cols) and give the same
stable order. Sorting by (row, col, value) is one counting pass by row
(:func:`grouped_by_row`), then each row's packed keys sorted in cache (:func:`sort_rows`).
:func:`grouped_by_row` groups entries by row keeping their order (input already in order
within each row); :func:`merged_by_row` joins such groups from several sources.
:func:`csr_defect` checks a CSR pattern's invariants in one pass.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit
def _bucket_pointers(keys, n):
    """Start of each key's bucket (length ``n + 1``) for keys in 0..n-1."""
    ptr = np.zeros(n + 1, np.int64)
    for k in keys:
        ptr[k + 1] += 1
    for k in range(n):
        ptr[k + 1] += ptr[k]
    return ptr


@njit(cache=True)
def index_counts(keys, n):
    """Occurrences of each of 0..n-1 in ``keys`` (int64): ``np.bincount`` without its int64
    copy of the input; a key outside 0..n-1 raises ValueError."""
    out = np.zeros(n, np.int64)
    for k in keys:
        if k < 0 or k >= n:
            raise ValueError("index out of range")
        out[k] += 1
    return out


@njit(cache=True)
def bucket_permutation(keys, n):
    """(ptr, order): bucket pointers and the stable permutation sorting ``keys`` (ints in
    0..n-1), by one counting-sort pass: O(len(keys) + n)."""
    ptr = _bucket_pointers(keys, n)
    fill = ptr[:-1].copy()
    order = np.empty(keys.size, np.int64)
    for p in range(keys.size):
        order[fill[keys[p]]] = p
        fill[keys[p]] += 1
    return ptr, order


@njit(cache=True)
def csr_permutation(rows, cols, n_rows, n_cols):
    """(ptr, order): row pointers and the permutation sorting COO entries by (row, col),
    stable, by two counting-sort passes (columns, then rows): O(nnz + n_rows + n_cols)."""
    by_col = bucket_permutation(cols, n_cols)[1]
    ptr = _bucket_pointers(rows, n_rows)
    fill = ptr[:-1].copy()
    order = np.empty(rows.size, np.int64)
    for p in by_col:
        order[fill[rows[p]]] = p
        fill[rows[p]] += 1
    return ptr, order


@njit
def _float_order(bits):
    """uint32 bits of a float32 -> a uint32 whose unsigned order is the float's order."""
    return ~bits if bits >> np.uint32(31) else bits | np.uint32(0x80000000)


@njit
def _float_bits(key):
    """Inverse of :func:`_float_order`."""
    return key & np.uint32(0x7FFFFFFF) if key >> np.uint32(31) else ~key


@njit(cache=True)
def sort_rows(ptr, cols, bits):
    """Sorts each row's entries (``ptr``; cols >= 0 below 2^32, float32 values as uint32
    ``bits``) in place by (col, value): a row's packed (col, value) keys sorted in a scratch
    array (a row is short: in cache). -0.0 sorts before 0.0, so equal entries are the only
    ties: the order does not depend on the input's."""
    longest = 0
    for r in range(ptr.size - 1):
        longest = max(longest, ptr[r + 1] - ptr[r])
    keys = np.empty(longest, np.uint64)
    for r in range(ptr.size - 1):
        a, n = ptr[r], ptr[r + 1] - ptr[r]
        for j in range(n):
            keys[j] = (np.uint64(cols[a + j]) << np.uint64(32)) | np.uint64(_float_order(bits[a + j]))
        row = keys[:n]
        row.sort()
        for j in range(n):
            cols[a + j] = row[j] >> np.uint64(32)
            bits[a + j] = _float_bits(np.uint32(row[j] & np.uint64(0xFFFFFFFF)))


@njit(cache=True)
def grouped_by_row(rows, cols, vals, n_rows, out_cols, out_vals):
    """Row pointers of COO entries grouped by row (rows in 0..n_rows-1) by one stable
    counting pass into ``out_cols``/``out_vals`` (the caller's arrays, as long as the
    input): a row's entries keep their input order (no sort, no permutation array)."""
    ptr = _bucket_pointers(rows, n_rows)
    fill = ptr[:-1].copy()
    for p in range(rows.size):
        r = rows[p]
        out_cols[fill[r]] = cols[p]
        out_vals[fill[r]] = vals[p]
        fill[r] += 1
    return ptr


@njit(cache=True)
def merged_by_row(counts, cols, vals, out_cols, out_vals):
    """Row pointers of CSR pieces from several sources merged by row into ``out_cols``/
    ``out_vals``. ``counts[s, r]`` entries of row r came from source s; the input holds
    source 0's entries by row, then source 1's...; a row's entries keep the source order
    (contiguous copies, no scatter)."""
    n_src, n_rows = counts.shape
    ptr = np.zeros(n_rows + 1, np.int64)
    for s in range(n_src):
        for r in range(n_rows):
            ptr[r + 1] += counts[s, r]
    for r in range(n_rows):
        ptr[r + 1] += ptr[r]
    fill = ptr[:-1].copy()
    at = 0
    for s in range(n_src):
        for r in range(n_rows):
            c = counts[s, r]
            out_cols[fill[r]:fill[r] + c] = cols[at:at + c]
            out_vals[fill[r]:fill[r] + c] = vals[at:at + c]
            fill[r] += c
            at += c
    return ptr


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
