"""Ownership of users and items by ranks, and moving ratings to their owners.

Rows (users or items) are split into contiguous index ranges balanced by their number of
ratings; :func:`send_to_owners` sends every rating to the rank owning its row with one
``Alltoallv`` per array; :func:`to_owners` also sorts it canonically, so a rank's data —
and anything computed from it row by row — is the same whatever the number of ranks that
read the input.
"""
from __future__ import annotations

import numpy as np

from ..kernels import sparse
from .comm import Comm, weighted_bounds


def global_counts(index: np.ndarray, n: int, comm: Comm) -> np.ndarray:
    """Ratings per row over all ranks (int64, length ``n``)."""
    return comm.allreduce(np.bincount(index, minlength=n).astype(np.int64))


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
    owner = np.searchsorted(bounds, rows, side="right") - 1
    order = np.argsort(owner.astype(np.min_scalar_type(comm.size)), kind="stable")
    counts = np.bincount(owner, minlength=comm.size)
    return tuple(comm.alltoallv(np.ascontiguousarray(a[order]), counts)[0]
                 for a in (rows, *more))


def to_owners(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, bounds: np.ndarray,
              comm: Comm) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`send_to_owners`, sorted by row, col, val (the same data on any rank count)."""
    rows, cols, vals = send_to_owners(bounds, comm, rows, cols, vals)
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


def entry_keys(seed: int, tag: int, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray
               ) -> np.ndarray:
    """A seeded random uint64 key per (row, col, val) that depends on the entry alone (not
    on its position or rank): sorting by it shuffles the same way for any reading of the
    input; equal keys mean equal entries (but for 2^-64 chance collisions)."""
    base = np.random.default_rng([seed, tag]).integers(1 << 64, dtype=np.uint64)
    bits = np.ascontiguousarray(vals, dtype=np.float32).view(np.uint32)
    return sparse.entry_keys(base, rows, cols, bits)


def row_pointers(rows: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """indptr over rows ``lo:hi`` of row-sorted ``rows``."""
    return np.searchsorted(rows, np.arange(lo, hi + 1)).astype(np.int64)
