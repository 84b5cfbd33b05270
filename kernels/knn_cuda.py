"""k-NN similarity rows on a GPU (CuPy sparse products), written against the array module ``xp``.

The GPU counterpart of :func:`hpcrec.kernels.knn.neighbor_block`, with the same result.
With A the x-major ratings (or residuals), B its 0/1 pattern and A² the squares, the
co-rating sums of a block of rows against all rows are sparse products (cuSPARSE SpGEMM):

    n = B_blk Bᵀ,  Σab = A_blk Aᵀ,  Σa² = A²_blk Bᵀ,  Σb² = B_blk A²ᵀ,  Σa = A_blk Bᵀ,  Σb = B_blk Aᵀ

(MSD: Σ(a-b)² = Σa² + Σb² - 2Σab). Surprise's formulas then run elementwise on the dense
block, and one stable sort per row picks the top K (higher similarity first, ties by lower
index, as the CPU kernel orders them). Sums of integer or half-integer ratings are exact
in float64, so cosine, MSD and Pearson equal the CPU kernel's bit for bit; pearson-baseline
residuals agree to rounding. ``block_bytes`` bounds the dense block. With ``xp=numpy``
(SciPy's sparse products) the same code runs on the CPU, which is how CI checks it.
"""
from __future__ import annotations

import numpy as np

from . import arrays
from .arrays import sparse_module, to_host
from .csr import Csr
from .knn import MSD, PEARSON, PEARSON_BASELINE

BLOCK_BYTES = 1 << 30
_DENSE_PER_ENTRY = 10  # float64 block arrays alive at once (sums, similarity, sort order)


class SimilarityRows:
    """The GPU :class:`~hpcrec.kernels.protocols.SimilarityRows`: the rating matrix on the
    device, ready to give the top-K neighbors of any row block. ``xp``: the array module
    (default CuPy); ``block_bytes`` bounds the dense block (default ``BLOCK_BYTES``)."""

    def __init__(self, x: Csr, y: Csr, measure: int, xp=None, block_bytes: int | None = None):
        xp = arrays.gpu_array_module() if xp is None else xp
        self.xp, self.measure = xp, measure
        sparse = sparse_module(xp)
        n_x, n_y = x.n_rows, y.n_rows
        ptr, idx = xp.asarray(x.indptr), xp.asarray(x.indices)
        csr = lambda v: sparse.csr_matrix((v, idx, ptr), shape=(n_x, n_y))  # noqa: E731
        val = xp.asarray(x.data, dtype=np.float64)
        self.A, self.B, self.A2 = csr(val), csr(xp.ones_like(val)), csr(val * val)
        self.At, self.Bt, self.A2t = (m.T.tocsr() for m in (self.A, self.B, self.A2))
        self.n_x = n_x
        budget = BLOCK_BYTES if block_bytes is None else block_bytes
        self.rows_per_block = max(1, budget // (8 * _DENSE_PER_ENTRY * max(n_x, 1)))

    def block_rows(self, keep: int) -> int:
        """Rows per block: the dense (rows, n_x) block fits ``block_bytes`` whatever ``keep``."""
        return self.rows_per_block

    def _sums(self, lo: int, hi: int):
        """Dense (hi-lo, n_x) co-rating sums: n, Σab (MSD: Σ(a-b)²), Σa², Σb², Σa, Σb."""
        A, B, A2 = self.A[lo:hi], self.B[lo:hi], self.A2[lo:hi]
        n = (B @ self.Bt).toarray()
        ab = (A @ self.At).toarray()
        aa = (A2 @ self.Bt).toarray()
        bb = (B @ self.A2t).toarray()
        if self.measure == MSD:
            return n, aa + bb - 2.0 * ab, None, None, None, None
        if self.measure == PEARSON:
            return n, ab, aa, bb, (A @ self.Bt).toarray(), (B @ self.At).toarray()
        return n, ab, aa, bb, None, None

    def _similarity(self, lo: int, hi: int, min_support: int, shrinkage: float):
        """Surprise's definitions, as :func:`hpcrec.kernels.knn._similarities` writes them
        (same operations in the same order); 0 where undefined or below ``min_support``."""
        with np.errstate(divide="ignore", invalid="ignore"):  # masked below; NumPy only
            return self._similarity_of(lo, hi, min_support, shrinkage)

    def _similarity_of(self, lo: int, hi: int, min_support: int, shrinkage: float):
        xp = self.xp
        n, s1, s2, s3, s4, s5 = self._sums(lo, hi)
        if self.measure == MSD:
            sim = 1.0 / (s1 / xp.maximum(n, 1.0) + 1.0)
        elif self.measure == PEARSON:
            var = (n * s2 - s4 * s4) * (n * s3 - s5 * s5)
            sim = xp.where(var > 0, (n * s1 - s4 * s5) / xp.sqrt(xp.where(var > 0, var, 1.0)), 0.0)
        else:
            den = s2 * s3
            sim = xp.where(den > 0, s1 / xp.sqrt(xp.where(den > 0, den, 1.0)), 0.0)
            if self.measure == PEARSON_BASELINE:
                sim *= (n - 1) / (n - 1 + shrinkage)
        least = max(2, min_support) if self.measure == PEARSON_BASELINE else max(1, min_support)
        sim = xp.where(n >= least, sim, 0.0)
        rows = xp.arange(hi - lo)
        sim[rows, rows + lo] = 0.0  # a row is not its own neighbor
        return sim

    def top(self, lo: int, hi: int, min_support: int, shrinkage: float, keep: int):
        """(idx, sim, count) of rows [lo, hi): (hi-lo, keep) arrays on the host, best first,
        -1 / 0 past each row's count of positive similarities (as the CPU kernel)."""
        xp = self.xp
        sim = self._similarity(lo, hi, min_support, shrinkage)
        # CuPy's argsort is always stable; NumPy's must be asked to be
        order = xp.argsort(-sim, axis=1, **({"kind": "stable"} if xp is np else {}))[:, :keep]
        best = xp.take_along_axis(sim, order, axis=1)
        positive = best > 0
        idx = xp.where(positive, order, -1).astype(np.int32)
        return (to_host(idx), to_host(xp.where(positive, best, 0.0)),
                to_host(positive.sum(axis=1).astype(np.int64)))
