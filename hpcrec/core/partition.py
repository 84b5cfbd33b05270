"""Ownership of users and items by ranks, and moving ratings to their owners.

Rows (users or items) are split into contiguous index ranges balanced by their number of
ratings; :func:`send_to_owners` sends every rating to the rank owning its row with one
``Alltoallv`` per array; :func:`by_rows` also sorts it canonically, so a rank's data —
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


def send_to_owners(bounds: np.ndarray, comm: Comm, rows: np.ndarray, *more: np.ndarray
                   ) -> tuple[np.ndarray, ...]:
    """Send each entry (``rows[n]``, ``more[k][n]``...) to the rank owning ``rows[n]``
    (``bounds``), in arrival order: by source rank, each source's entries in their order
    there. One rank: the arrays as they are, not copied."""
    if comm.size == 1:
        return (rows, *more)
    owner_of_row = np.repeat(np.arange(comm.size, dtype=np.int32), np.diff(bounds))
    ptr, order = sparse.bucket_permutation(owner_of_row[rows], comm.size)   # stable
    return tuple(comm.alltoallv(a[order], np.diff(ptr))[0] for a in (rows, *more))


def _sorted_on_owner(rows, cols, vals, bounds, comm: Comm):
    """(local row pointers, rows, cols, vals): :func:`send_to_owners`, then sorted by (row,
    col, val) — one counting pass by row, each row sorted in cache (float32 values)."""
    rows, cols, vals = send_to_owners(bounds, comm, rows, cols, vals)
    lo, hi = int(bounds[comm.rank]), int(bounds[comm.rank + 1])
    bits = np.ascontiguousarray(vals, dtype=np.float32).view(np.uint32)
    ptr, cols, bits = sparse.sorted_by_row(rows - lo, cols, bits, hi - lo)
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
    ``split(counts)`` makes the bounds from the global ratings per column. Each rank groups
    its ratings by column (one stable counting pass keeps each column's (row, val) order;
    its pointers give the counts), so an owner's part is one contiguous block; the blocks
    travel with their per-column counts (not a column per rating), and the owner joins
    each column's pieces in source order: the sources' row ranges increase with rank.
    The results are in NumPy's memory, not Numba's: a half-step read them 3-8 % faster
    (the 20M set's item side)."""
    rows, vals = np.empty_like(owned.rows), np.empty_like(owned.vals)
    ptr = sparse.grouped_by_row(owned.cols, owned.rows, owned.vals, n_cols, rows, vals)
    counts = np.diff(ptr)
    bounds = split(comm.allreduce(counts.copy()))
    if comm.size == 1:
        return bounds, ptr, rows, vals
    lo, hi = int(bounds[comm.rank]), int(bounds[comm.rank + 1])
    counts = comm.alltoallv(counts, np.diff(bounds))[0].reshape(comm.size, hi - lo)
    block = np.diff(ptr[bounds])
    rows, vals = (comm.alltoallv(a, block)[0] for a in (rows, vals))
    out_rows, out_vals = np.empty_like(rows), np.empty_like(vals)
    return bounds, sparse.merged_by_row(counts, rows, vals, out_rows, out_vals), out_rows, out_vals
