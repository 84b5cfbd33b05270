"""Sparse similarities between items (or users), keeping only the top-K neighbors per row.

Measures, with Surprise's definitions over the ratings two rows have in common
(``n`` co-ratings; pairs with ``n < min_support`` get no similarity):

- ``cosine``: sum(a*b) / sqrt(sum(a^2) * sum(b^2));
- ``msd``: 1 / (sum((a-b)^2) / n + 1);
- ``pearson``: Pearson correlation, centred on the means over the common ratings;
- ``pearson-baseline``: cosine of the baseline residuals r - b_ui, shrunk by
  (n - 1) / (n - 1 + shrinkage); needs n >= 2.

A row's similarities come from an accumulator over the rows that share a rating with it
(one row of sums per x and thread, reset after use), so memory is O(nnz + n*K + threads*n)
and never a dense n x n matrix. Only positive similarities are kept (the only ones
prediction uses, as in Surprise), best first, equal ones by lower index.
Under MPI, rows are split across ranks by their work (sum of co-rating list lengths);
each rank computes its rows in blocks and the lists are gathered onto every rank.
"""
from __future__ import annotations

import numpy as np

from ..core.comm import Comm, resolve, weighted_bounds
from ..core.device import kernel
from ..core.errors import InputError
from ..kernels import knn as kernels
from ..kernels import sparse
from ..kernels.csr import Csr, csr

MEASURES = {"cosine": kernels.COSINE, "msd": kernels.MSD, "pearson": kernels.PEARSON,
            "pearson-baseline": kernels.PEARSON_BASELINE}


def measure_name(name: str) -> str:
    """Canonical measure name ('pearson_baseline' is accepted for Surprise users)."""
    canon = str(name).lower().replace("_", "-")
    if canon not in MEASURES:
        raise InputError(f"unknown similarity {name!r} (choose from {', '.join(MEASURES)})")
    return canon


def csr_order(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """(ptr, order): row pointers, and the permutation sorting COO entries by (row, col)."""
    return sparse.csr_permutation(rows, cols, n_rows, n_cols)


def from_coo(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, n_rows: int,
             n_cols: int) -> Csr:
    """CSR of COO entries (int32 indices, float64 values), columns sorted within rows."""
    ptr, order = csr_order(rows, cols, n_rows, n_cols)
    return csr(ptr, cols[order].astype(np.int32),
               np.ascontiguousarray(vals[order], dtype=np.float64), n_cols)


def neighbor_rows(x: Csr, y: Csr, lo: int, hi: int, measure: str, min_support: int,
                   shrinkage: float, keep: int, device: str = "cpu"
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Neighbor lists of rows [lo, hi) of ``x`` (x-major matrix; ``y`` is its transpose),
    by the ``knn`` kernel of the resolved ``device`` (the same result on either).
    Returns (count per row, neighbor indices, similarities) with the lists back to back.
    """
    keep = min(keep, x.n_rows - 1)
    if keep <= 0 or hi <= lo:
        return np.zeros(max(hi - lo, 0), np.int64), np.zeros(0, np.int32), np.zeros(0, np.float64)
    rows = kernel("knn", device)(x, y, MEASURES[measure])
    per_block = rows.block_rows(keep)
    counts, idx, sim = [], [], []
    for start in range(lo, hi, per_block):
        b_idx, b_sim, b_cnt = rows.top(start, min(hi, start + per_block), int(min_support),
                                       float(shrinkage), int(keep))
        used = np.arange(keep) < b_cnt[:, None]
        counts.append(b_cnt)
        idx.append(b_idx[used])
        sim.append(b_sim[used])
    return np.concatenate(counts), np.concatenate(idx), np.concatenate(sim)


def neighbor_lists(x: Csr, y: Csr, measure: str, min_support: int = 1, shrinkage: float = 100.0,
                    keep: int | None = None, comm: Comm | None = None, device: str = "cpu") -> Csr:
    """Top-``keep`` neighbors of every row of ``x`` (None: all positive), on every rank.

    ``x`` and ``y`` hold the same ratings (or residuals) x-major and y-major, whole on every
    rank. Each rank computes a block of rows of about equal work (on its GPU for
    ``device="gpu"``, a resolved device); the result is the same for any number of ranks.
    """
    comm = resolve(comm)
    keep = x.n_rows if keep is None else keep
    with comm.collective_errors():
        # Work of a row: the lengths of the y-lists it walks; cumulated at the row boundaries.
        work = np.concatenate(([0], np.cumsum(np.diff(y.indptr)[x.indices])))[x.indptr]
        bounds = weighted_bounds(work, comm.size)
        counts, idx, sim = neighbor_rows(x, y, int(bounds[comm.rank]), int(bounds[comm.rank + 1]),
                                          measure, min_support, shrinkage, keep, device)
    counts, idx, sim = comm.allgatherv(counts), comm.allgatherv(idx), comm.allgatherv(sim)
    ptr = np.zeros(x.n_rows + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    return csr(ptr, idx, sim, x.n_rows)
