"""Numba CPU kernel for one ALS half-step: batched normal equations and Cholesky solves.

For each row (a user, or an item) with rated columns J, targets t_j and the other side's
vectors x_j (with a trailing 1 when the row's own bias is solved for), it solves

    ((1 - w0) Σ_J x_j x_jᵀ + w0 G + Λ) θ = Σ_J t_j x_j,

where G = Σ_all x xᵀ is the other side's Gram matrix (the implicit "unobserved entries
weighted by w0" term at O(d²) per row) and Λ is diagonal: reg (times the row's rating
count for ALS-WR), reg_bias on the bias coordinate. Explicit ALS is w0 = 0. Rows are
independent (``prange``) and each is accumulated in its CSR order, so the result depends
neither on the thread count nor on how rows were distributed.
"""
from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(fastmath=False, cache=True)
def _cholesky_solve(A, b):
    """Solve A x = b in place of b for symmetric positive definite A (lower triangle used)."""
    n = A.shape[0]
    for j in range(n):
        s = A[j, j]
        for k in range(j):
            s -= A[j, k] * A[j, k]
        if s <= 0.0:
            s = 1e-300  # only from rounding: the models require reg > 0, so A is positive definite
        ljj = np.sqrt(s)
        A[j, j] = ljj
        for i in range(j + 1, n):
            s = A[i, j]
            for k in range(j):
                s -= A[i, k] * A[j, k]
            A[i, j] = s / ljj
    for i in range(n):  # L y = b
        s = b[i]
        for k in range(i):
            s -= A[i, k] * b[k]
        b[i] = s / A[i, i]
    for i in range(n - 1, -1, -1):  # Lᵀ x = y
        s = b[i]
        for k in range(i + 1, n):
            s -= A[k, i] * b[k]
        b[i] = s / A[i, i]


@nb.njit(parallel=True, cache=True)
def als_half_step(indptr, cols, vals, X, x_bias, offset, fit_bias, reg, reg_bias, weighted,
                  w0, gram, Y, y_bias):
    """Solve every row of ``Y`` (and ``y_bias`` when ``fit_bias``) given the other side ``X``.

    indptr/cols/vals: CSR of the rows to solve (cols index rows of X). Targets are
    ``vals - offset - x_bias[col]``. ``gram`` (d x d) is used only when w0 > 0.
    """
    n_rows, d = Y.shape
    D = d + 1 if fit_bias else d
    n_chunks = min(n_rows, 256)  # independent of the thread count: cacheable, deterministic
    for c in nb.prange(n_chunks):
        A = np.empty((D, D))
        rhs = np.empty(D)
        x = np.empty(D)
        if fit_bias:
            x[d] = 1.0
        for row in range(c * n_rows // n_chunks, (c + 1) * n_rows // n_chunks):
            A[:, :] = 0.0
            rhs[:] = 0.0
            for n in range(indptr[row], indptr[row + 1]):
                j = cols[n]
                for k in range(d):
                    x[k] = X[j, k]
                t = vals[n] - offset - x_bias[j]
                for a in range(D):
                    xa = x[a]
                    rhs[a] += t * xa
                    for b in range(a + 1):
                        A[a, b] += xa * x[b]
            count = indptr[row + 1] - indptr[row]
            scale = max(count, 1) if weighted else 1
            if w0 > 0.0:
                for a in range(d):
                    for b in range(a + 1):
                        A[a, b] = (1.0 - w0) * A[a, b] + w0 * gram[a, b]
            for a in range(d):
                A[a, a] += reg * scale
            if fit_bias:
                A[d, d] += reg_bias * scale
            _cholesky_solve(A, rhs)
            for k in range(d):
                Y[row, k] = rhs[k]
            if fit_bias:
                y_bias[row] = rhs[d]
