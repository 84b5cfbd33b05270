"""Ownership of users and items by ranks, and moving ratings to their owners.

Rows (users or items) are split into contiguous index ranges balanced by their number of
ratings; :func:`to_owners` sends every rating to the rank owning its row with one
``Alltoallv`` per array and sorts it canonically, so a rank's data — and anything computed
from it row by row — is the same whatever the number of ranks that read the input.
"""
from __future__ import annotations

import numpy as np

from ..core.comm import Comm, weighted_bounds
from ..kernels import sparse


def global_counts(index: np.ndarray, n: int, comm: Comm) -> np.ndarray:
    """Ratings per row over all ranks (int64, length ``n``)."""
    return comm.allreduce(np.bincount(index, minlength=n).astype(np.int64))


def balanced_bounds(counts: np.ndarray, parts: int, lo: int = 0, hi: int | None = None) -> np.ndarray:
    """``parts + 1`` split points of rows ``lo:hi`` with about equal ratings per part."""
    hi = len(counts) if hi is None else hi
    cum = np.concatenate(([0], np.cumsum(counts[lo:hi], dtype=np.int64)))
    return weighted_bounds(cum, parts) + lo


def to_owners(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, bounds: np.ndarray,
              comm: Comm) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Send each (row, col, val) to the rank owning ``row`` (``bounds``); sorted by row, col, val."""
    owner = np.searchsorted(bounds, rows, side="right") - 1
    order = np.argsort(owner, kind="stable")
    counts = np.bincount(owner, minlength=comm.size)
    rows, cols, vals = (comm.alltoallv(np.ascontiguousarray(a[order]), counts)[0]
                        for a in (rows, cols, vals))
    order = sorting_permutation(rows - bounds[comm.rank], cols, vals,
                                int(bounds[comm.rank + 1] - bounds[comm.rank]))[1]
    return rows[order], cols[order], vals[order]


def sorting_permutation(rows: np.ndarray, cols: np.ndarray, key: np.ndarray, n_rows: int
                        ) -> tuple[np.ndarray, np.ndarray]:
    """(row pointers, ``np.lexsort((key, cols, rows))``) for rows in ``0:n_rows`` and
    non-negative cols, in linear time (counting sort; equal (row, col) runs by key)."""
    n_cols = int(cols.max()) + 1 if len(cols) else 0
    ptr, order = sparse.csr_permutation(rows, cols, n_rows, n_cols)
    sparse.sort_ties(order, rows, cols, key)
    return ptr, order


def row_pointers(rows: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """indptr over rows ``lo:hi`` of row-sorted ``rows``."""
    return np.searchsorted(rows, np.arange(lo, hi + 1)).astype(np.int64)
