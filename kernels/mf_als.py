"""Numba CPU kernels of the alternating least squares models: one half-step (every row's
regularized weighted least squares), the Gram matrix, and the training error.

For a row (a user, or an item) with rated columns J, values v_j and the other side's
vectors x_j (with a trailing 1 when the row's own bias is solved for), a half-step solves

    (g G + Σ_J (a0 + a1 v_j) x_j x_jᵀ + Λ) θ = Σ_J (b0 + b1 v_j - x_bias[j]) x_j,

``coef = (g, a0, a1, b0, b1)``. G = Σ_all x xᵀ is the other side's Gram matrix, which
accounts for every unobserved entry at O(d²) per row instead of O(columns); Λ is diagonal,
``reg`` (times the row's rating count when ``weighted``: ALS-WR) and ``reg_bias`` on the
bias coordinate. The models' settings:

* explicit ALS: ``(0, 1, 0, -μ, 1)`` (targets v - μ - b_j, every weight 1);
* implicit feedback, Hu-Koren-Volinsky: ``(1, 0, α, 1, α)``: confidence c = 1 + α v on
  observed entries with preference 1, confidence 1 and preference 0 everywhere else.

Solvers (``cg_steps``): 0 forms each row's D x D matrix and solves it exactly by Cholesky
(O(n_J D² + D³) per row, in float64 whatever the factors' type; one scratch matrix per
chunk of rows). k > 0 runs k conjugate-gradient steps started from the row's current
factors and never forms the matrix: a product with it costs O(D² + n_J D) (the G term is
skipped when g = 0), so explicit ALS is O(n_J D) per step. The rows of a block of
``CG_BLOCK`` advance in lockstep, so their products with G are one matrix product (BLAS);
the sparse part runs in Numba, four ratings per pass over the row's vector. CG computes in
the factors' type (float32 factors: float32 vectors, the SIMD width of float64 doubled
and the memory traffic halved, as ``implicit`` and Spark work) with float64 step scalars
(|r|², pᵀAp). Scratch is allocated once per half-step and block, never per row.

Rows are independent and each is accumulated in its CSR order, so a row's result depends
neither on the thread count nor on how rows were distributed over ranks, except that the
BLAS product V G may round differently for another block shape (1e-16 relative; WALS's G
is an ``Allreduce`` anyway, whose order depends on the rank count).
"""
from __future__ import annotations

import numba as nb
import numpy as np

from .csr import Csr
from .protocols import RowProblem, Side

_CHUNKS = 256  # fixed, independent of the thread count: deterministic and cacheable
CG_BLOCK = 8192  # CG rows advanced in lockstep: their G products are one matrix product
GRAM_CHUNK = 4096  # rows per BLAS product of the Gram matrix; the chunks add up in float64
COL_BLOCK_BYTES = 1 << 21  # a column block of the other side's vectors: stays in L2 while used


def row_weights(counts, n_other: int, d: int, itemsize: int = 4):
    """Each row's CG cost in units of one rating (for balancing rows over ranks): its
    ratings plus a fixed part per row, dominated by the visits of every column block
    (about 25 ratings' worth each, measured on the 20M set: a row of the other side's
    blocks costs its vectors' reads even for a few ratings) and the d x d product."""
    blocks = -(-n_other * d * itemsize // max(COL_BLOCK_BYTES, 1))
    return np.asarray(counts, dtype=np.int64) + (25 * max(blocks, 1) + d // 2)


@nb.njit(fastmath=True, cache=True)
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


def als_half_step(rows: Csr, X, x_bias, problem: RowProblem, Y, y_bias) -> None:
    """Solve every row of ``Y`` (and ``y_bias`` when ``fit_bias``) given the other side ``X``
    (protocol :class:`~hpcrec.kernels.protocols.AlsHalfStep`).

    rows: the ratings of the rows to solve (columns index rows of X, values in ``data``);
    ``Y``/``y_bias`` hold exactly those rows and, for CG, their current values (the
    starting point). ``problem.gram`` (d x d, full) is read only when coef[0] != 0.
    """
    if problem.cg_steps == 0:
        _cholesky_rows(rows, Side(X, x_bias), problem, Side(Y, y_bias))
        return
    dtype = Y.dtype
    # values and coefficients in the factors' type, so that float32 factors keep float32 loops
    rows = rows._replace(data=rows.data.astype(dtype, copy=False))
    other = Side(X, x_bias.astype(dtype, copy=False))
    n_rows, d = Y.shape
    D = d + 1 if problem.fit_bias else d
    problem = problem._replace(coef=np.asarray(problem.coef, dtype=dtype),
                               gram=np.asarray(problem.gram, dtype=dtype))
    g = float(problem.coef[0])
    m = max(1, min(n_rows, CG_BLOCK))
    x, r, p, Ap = (np.empty((m, D), dtype=dtype) for _ in range(4))
    g_part = np.zeros((m, d) if g != 0.0 else (1, 1), dtype=dtype)
    rs = np.empty(m)
    for first in range(0, n_rows, m):
        n = min(m, n_rows - first)
        xb, rb, pb, Apb, gb, rsb = x[:n], r[:n], p[:n], Ap[:n], g_part[:n], rs[:n]
        xb[:, :d] = Y[first:first + n]
        if problem.fit_bias:
            xb[:, d] = y_bias[first:first + n]
        for step in range(problem.cg_steps + 1):
            V, out = (xb, rb) if step == 0 else (pb, Apb)
            if g != 0.0:
                np.matmul(V[:, :d], problem.gram, out=gb)
            # step 0: the residual rhs - A x in the same pass over the ratings; then A p
            _sparse_matvec(rows, other, problem, first, step == 0, V, gb, out)
            if step == 0:
                _cg_residual(rb, pb, rsb)
            else:
                _cg_step(xb, rb, pb, Apb, rsb)
        Y[first:first + n] = xb[:, :d]
        if problem.fit_bias:
            y_bias[first:first + n] = xb[:, d]


@nb.njit(parallel=True, fastmath=True, cache=True)
def _sparse_matvec(rows, other, problem, first, residual, V, g_part, out):
    """out[q] = (g G + Σ_J w_j x_j x_jᵀ + Λ) V[q] for the row first + q (g_part = V G,
    ignored when g = 0); with ``residual``, out[q] = rhs - that, rhs = Σ_J t_j x_j.

    The other side's rows are visited in column blocks of about ``COL_BLOCK_BYTES`` (L2
    sized): all rows of the call take their ratings in block 0, then block 1, ... so a
    block of X is fetched from memory once and reused from cache by every row that rated
    it. Each row still adds its ratings in CSR (column) order."""
    indptr, cols, vals = rows.indptr, rows.indices, rows.data
    X, x_bias = other.vectors, other.bias
    coef, reg, reg_bias, weighted = problem.coef, problem.reg, problem.reg_bias, problem.weighted
    d = X.shape[1]
    n, D = V.shape
    g, a0, a1, b0, b1 = coef[0], coef[1], coef[2], coef[3], coef[4]
    sign = -1.0 if residual else 1.0
    width = max(64, COL_BLOCK_BYTES // (d * X.itemsize))
    cursor = np.empty(n, dtype=np.int64)
    for q in nb.prange(n):
        lo, hi = indptr[first + q], indptr[first + q + 1]
        cursor[q] = lo
        scale = max(hi - lo, 1) if weighted else 1
        for k in range(d):
            out[q, k] = sign * reg * scale * V[q, k]
        if D > d:
            out[q, d] = sign * reg_bias * scale * V[q, d]
        if g != 0.0:
            for k in range(d):
                out[q, k] += sign * g * g_part[q, k]
    zero = V.dtype.type(0)  # sums in the vectors' type: float32 factors, float32 SIMD
    for limit in range(width, X.shape[0] + width, width):
        for q in nb.prange(n):
            t, hi = cursor[q], indptr[first + q + 1]
            end = t
            while end < hi and cols[end] < limit:
                end += 1
            cursor[q] = end
            while t + 4 <= end:  # four ratings per pass over out[q] ...
                j0, j1, j2, j3 = cols[t], cols[t + 1], cols[t + 2], cols[t + 3]
                s0 = s1 = s2 = s3 = zero
                for k in range(d):
                    v = V[q, k]
                    s0 += X[j0, k] * v
                    s1 += X[j1, k] * v
                    s2 += X[j2, k] * v
                    s3 += X[j3, k] * v
                if D > d:
                    s0 += V[q, d]
                    s1 += V[q, d]
                    s2 += V[q, d]
                    s3 += V[q, d]
                c0 = _rating_coef(residual, a0, a1, b0, b1, vals[t], x_bias[j0], s0)
                c1 = _rating_coef(residual, a0, a1, b0, b1, vals[t + 1], x_bias[j1], s1)
                c2 = _rating_coef(residual, a0, a1, b0, b1, vals[t + 2], x_bias[j2], s2)
                c3 = _rating_coef(residual, a0, a1, b0, b1, vals[t + 3], x_bias[j3], s3)
                for k in range(d):
                    out[q, k] += c0 * X[j0, k] + c1 * X[j1, k] + c2 * X[j2, k] + c3 * X[j3, k]
                if D > d:
                    out[q, d] += c0 + c1 + c2 + c3
                t += 4
            while t < end:  # ... the rest of the block one by one
                j0 = cols[t]
                s0 = zero
                for k in range(d):
                    s0 += X[j0, k] * V[q, k]
                if D > d:
                    s0 += V[q, d]
                c0 = _rating_coef(residual, a0, a1, b0, b1, vals[t], x_bias[j0], s0)
                for k in range(d):
                    out[q, k] += c0 * X[j0, k]
                if D > d:
                    out[q, d] += c0
                t += 1


@nb.njit(fastmath=True, cache=True, inline="always")
def _rating_coef(residual, a0, a1, b0, b1, v, x_bias, s):
    """A rating's factor on its x_j: w s in a product (s = x_jᵀ V), t - w s in a residual."""
    w = a0 + a1 * v
    return (b0 + b1 * v - x_bias - w * s) if residual else w * s


@nb.njit(parallel=True, fastmath=True, cache=True)
def _cg_residual(r, p, rs):
    """p = r; rs = |r|² (per row, in float64)."""
    for q in nb.prange(r.shape[0]):
        s = 0.0
        for k in range(r.shape[1]):
            p[q, k] = r[q, k]
            s += np.float64(r[q, k]) * r[q, k]
        rs[q] = s


@nb.njit(parallel=True, fastmath=True, cache=True)
def _cg_step(x, r, p, Ap, rs):
    """One conjugate-gradient step per row, given Ap = A p (step scalars in float64)."""
    D = x.shape[1]
    for q in nb.prange(x.shape[0]):
        if rs[q] <= 1e-30:  # converged (or an empty row at its solution)
            continue
        pap = 0.0
        for k in range(D):
            pap += np.float64(p[q, k]) * Ap[q, k]
        step = x.dtype.type(rs[q] / pap)
        s = 0.0
        for k in range(D):
            x[q, k] += step * p[q, k]
            r[q, k] -= step * Ap[q, k]
            s += np.float64(r[q, k]) * r[q, k]
        beta = x.dtype.type(s / rs[q])
        for k in range(D):
            p[q, k] = r[q, k] + beta * p[q, k]
        rs[q] = s


@nb.njit(parallel=True, fastmath=True, cache=True)
def _cholesky_rows(rows, other, problem, own):
    """The exact solve of every row: form its D x D matrix in float64, Cholesky (scratch
    per chunk); results go to ``own`` (the rows' vectors and biases)."""
    indptr, cols, vals = rows.indptr, rows.indices, rows.data
    X, x_bias, Y, y_bias = other.vectors, other.bias, own.vectors, own.bias
    coef, gram, fit_bias = problem.coef, problem.gram, problem.fit_bias
    reg, reg_bias, weighted = problem.reg, problem.reg_bias, problem.weighted
    n_rows, d = Y.shape
    D = d + 1 if fit_bias else d
    g, a0, a1, b0, b1 = coef[0], coef[1], coef[2], coef[3], coef[4]
    n_chunks = min(n_rows, _CHUNKS)
    for c in nb.prange(n_chunks):
        A = np.empty((D, D))
        x = np.empty(D)
        rhs = np.empty(D)
        for row in range(c * n_rows // n_chunks, (c + 1) * n_rows // n_chunks):
            lo, hi = indptr[row], indptr[row + 1]
            scale = max(hi - lo, 1) if weighted else 1
            rhs[:] = 0.0
            for a in range(D):
                for b in range(a + 1):
                    A[a, b] = g * gram[a, b] if a < d else 0.0
            if fit_bias:
                x[d] = 1.0
            for t in range(lo, hi):
                j = cols[t]
                w = a0 + a1 * vals[t]
                u = b0 + b1 * vals[t] - x_bias[j]
                for k in range(d):
                    x[k] = X[j, k]
                for a in range(D):
                    rhs[a] += u * x[a]
                    xa = w * x[a]
                    for b in range(a + 1):
                        A[a, b] += xa * x[b]
            for a in range(d):
                A[a, a] += reg * scale
            if fit_bias:
                A[d, d] += reg_bias * scale
            _cholesky_solve(A, rhs)
            for k in range(d):
                Y[row, k] = rhs[k]
            if fit_bias:
                y_bias[row] = rhs[d]


def gram(X, lo: int, hi: int, out) -> None:
    """out = X[lo:hi]ᵀ X[lo:hi] (full d x d, float64): one BLAS product (syrk) per chunk of
    ``GRAM_CHUNK`` rows in the factors' type, the chunks added in float64 in a fixed
    order, so the result has the same bits for any thread count."""
    out[...] = 0.0
    for s in range(lo, hi, GRAM_CHUNK):
        part = X[s:min(s + GRAM_CHUNK, hi)]
        out += part.T @ part


@nb.njit(parallel=True, fastmath=True, cache=True)
def sse(rows, own, lo, other, target):
    """Σ (t0 + t1 v - offset - y_bias[u] - x_bias[j] - <Y[u], X[j]>)² over the CSR's
    ratings (row n is ``own``'s row lo + n; ``target = (offset, t0, t1)``), in fixed
    chunks: the same bits for any thread count."""
    indptr, cols, vals = rows.indptr, rows.indices, rows.data
    Y, y_bias, X, x_bias = own.vectors, own.bias, other.vectors, other.bias
    offset, t0, t1 = target
    n_rows = len(indptr) - 1
    d = X.shape[1]
    n_chunks = max(1, min(n_rows, _CHUNKS))
    parts = np.zeros(n_chunks)
    zero = X.dtype.type(0)  # dot products in the factors' type, squared errors in float64
    for c in nb.prange(n_chunks):
        s = 0.0
        for row in range(c * n_rows // n_chunks, (c + 1) * n_rows // n_chunks):
            u = lo + row
            for n in range(indptr[row], indptr[row + 1]):
                j = cols[n]
                e = t0 + t1 * vals[n] - offset - y_bias[u] - x_bias[j]
                dot = zero
                for k in range(d):
                    dot += Y[u, k] * X[j, k]
                e -= dot
                s += e * e
        parts[c] = s
    return parts.sum()
