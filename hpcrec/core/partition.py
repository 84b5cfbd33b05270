"""Ownership of users and items by ranks, and moving ratings to their owners.

Rows (users or items) are split into contiguous index ranges balanced by their number of
ratings; :func:`by_rows` sends every rating to the rank owning its row, grouped by row,
and sorts it canonically, so a rank's data —
and anything computed from it row by row — is the same whatever the number of ranks that
read the input, and whatever their order, and keeps the row pointers, counts and bounds
with the data; :func:`transposed` moves such data to the
owners of its columns, sorted, without sorting again.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..kernels import sparse
from .comm import Comm, weighted_bounds


def global_counts(index: np.ndarray, n: int, comm: Comm) -> np.ndarray:
    """Ratings per row over all ranks (int64, length ``n``)."""
    return comm.allreduce(sparse.index_counts(index, n))


def balanced_bounds(counts: np.ndarray, parts: int, lo: int = 0, hi: int | None = None) -> np.ndarray:
    """``parts + 1`` split points of rows ``lo:hi`` with about equal ratings per part."""
    hi = len(counts) if hi is None else hi
    cum = np.concatenate(([0], np.cumsum(counts[lo:hi], dtype=np.int64)))
    return weighted_bounds(cum, parts) + lo


def _to_owners(rows, cols, vals, n_rows: int, split, comm: Comm):
    """(bounds, local row pointers, cols, vals): every entry on the owner of its row, each
    row's entries in source order (by source rank, then their order there); ``split(counts)``
    makes the bounds from the global entries per row. Each rank groups its entries by row
    (one stable counting pass: no owner per entry, no permutation), so an owner's part is
    one contiguous block; the blocks travel with their per-row counts (not a row per
    entry), and the owner joins each row's pieces in source order. One rank: the grouping.
    The results are in NumPy's memory, not Numba's: a half-step read them 3-8 % faster
    (the 20M set's item side)."""
    g_cols, g_vals = np.empty_like(cols), np.empty_like(vals)
    ptr = sparse.grouped_by_row(rows, cols, vals, n_rows, g_cols, g_vals)
    bounds = split(comm.allreduce(np.diff(ptr)))
    if comm.size == 1:
        return bounds, ptr, g_cols, g_vals
    lo, hi = int(bounds[comm.rank]), int(bounds[comm.rank + 1])
    counts = comm.alltoallv(np.diff(ptr), np.diff(bounds))[0].reshape(comm.size, hi - lo)
    block = np.diff(ptr[bounds])
    g_cols, g_vals = (comm.alltoallv(a, block)[0] for a in (g_cols, g_vals))   # frees the sent
    out_cols, out_vals = np.empty_like(g_cols), np.empty_like(g_vals)
    return bounds, sparse.merged_by_row(counts, g_cols, g_vals, out_cols, out_vals), out_cols, out_vals


def _sorted_on_owner(rows, cols, vals, bounds, comm: Comm):
    """(local row pointers, rows, cols, vals) on the owners of their rows, sorted by (row,
    col, val): :func:`_to_owners`, then each row sorted in cache (float32 values)."""
    bits = np.ascontiguousarray(vals, dtype=np.float32).view(np.uint32)
    _, ptr, cols, bits = _to_owners(rows, cols, bits, int(bounds[-1]), lambda _: bounds, comm)
    sparse.sort_rows(ptr, cols, bits)
    lo, hi = int(bounds[comm.rank]), int(bounds[comm.rank + 1])
    rows = np.repeat(np.arange(lo, hi, dtype=rows.dtype), np.diff(ptr))
    return ptr, rows, cols, bits.view(np.float32)


@dataclass
class Owned:
    """Ratings on the rank that owns their row, sorted by (row, col, val): rows split into
    contiguous ``bounds`` over the ranks; ``counts`` are the global ratings per row and
    ``ptr`` points into this rank's rows."""
    counts: np.ndarray
    bounds: np.ndarray
    ptr: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray


def by_rows(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, counts: np.ndarray,
            bounds: np.ndarray, comm: Comm) -> Owned:
    """Every rating on the owner of its row (``bounds``), sorted by (row, col, val), with
    the row pointers, counts and bounds."""
    return Owned(counts, bounds, *_sorted_on_owner(rows, cols, vals, bounds, comm))


def transposed(owned: Owned, n_cols: int, split, comm: Comm
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(column bounds, local pointers over columns ``bounds[rank]:bounds[rank + 1]``, rows,
    vals): the ratings of ``owned`` on the owner of their column, sorted by (col, row,
    val), as :func:`by_rows` from the columns' side would give them, without sorting;
    ``split(counts)`` makes the bounds from the global ratings per column: the ratings
    grouped by column (:func:`_to_owners`) keep each column's (row, val) order, and the
    sources own increasing row ranges."""
    return _to_owners(owned.cols, owned.rows, owned.vals, n_cols, split, comm)
