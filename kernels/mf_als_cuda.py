"""One ALS half-step on the GPU (CuPy), written against the array module ``xp``.

The GPU counterpart of :func:`hpcrec.kernels.mf_als.als_half_step`, same arguments and
same equations: for each row with rated columns J, values v_j and the other side's
vectors x_j (with a trailing 1 when the row's bias is solved for),

    (g G + Σ_J (a0 + a1 v_j) x_j x_jᵀ + Λ) θ = Σ_J (b0 + b1 v_j - x_bias[j]) x_j

(``coef = (g, a0, a1, b0, b1)``; the G term on the d x d factor block only; G the other
side's Gram matrix, which accounts for all unobserved entries at O(d²) per row; Λ = reg,
reg_bias on the diagonal, times the row's rating count when ``weighted``).

How it runs on a GPU: rows are sorted by rating count and cut into batches; a batch
gathers its rows' x_j into a zero-padded (rows, longest, D) tensor Z. ``cg_steps`` = 0:
all normal equations with one batched matrix product (cuBLAS strided-batched GEMM), one
batched Cholesky factorization (cuSOLVER potrfBatched) and two batched triangular solves
(cuBLAS trsmBatched). ``cg_steps`` = k > 0: k conjugate-gradient steps for the whole batch
in lockstep, started from the rows' current factors; a product with the matrices is
V G (one GEMM) plus two batched products with Z, so no D x D matrix is formed. Sorting
keeps the padding small; ``batch_bytes`` bounds the memory of a batch. Arithmetic is
float64 for float64 factors (as the CPU kernel), float32 for float32 ones. With
``xp=numpy`` the same code runs on the CPU, which is how CI checks it.
"""
from __future__ import annotations

from typing import Any, NamedTuple, Optional

import numpy as np

from . import arrays
from .arrays import to_host
from .csr import Csr
from .protocols import RowProblem

BATCH_BYTES = 1 << 30


class GpuSolve(NamedTuple):
    """How the GPU half-step runs: ``xp`` the array module (None: CuPy, the GPU; NumPy
    runs the same code on the CPU), ``batch_bytes`` the memory bound of a batch of rows,
    ``cholesky_block`` see :func:`spd_solve`."""
    xp: Any = None
    batch_bytes: int = BATCH_BYTES
    cholesky_block: Optional[int] = None


ON_GPU = GpuSolve()


class BatchSystem(NamedTuple):
    """The stacked systems (g G + Zᵀ diag(W) Z + diag(lam)) x = rhs of a batch of rows:
    Z (rows, longest, D) the gathered vectors (zero padding), W (rows, longest) their
    weights, G the Gram matrix (None when g = 0), lam (rows, D) the ridge."""
    Z: Any
    W: Any
    G: Any
    g: float
    lam: Any


def spd_solve(xp, A, b, block: int | None = None):
    """Solve the stacked symmetric positive definite systems A[k] x[k] = b[k] (Cholesky).

    ``block=None`` factors each matrix whole (cuSOLVER potrfBatched on the GPU); an
    integer uses :func:`blocked_cholesky` with blocks of that size.
    """
    L = xp.linalg.cholesky(A) if block is None else blocked_cholesky(xp, A, block)
    tri = _solve_triangular(xp)
    y = tri(L, b[..., None], lower=True)
    return tri(L, y, lower=True, trans="T")[..., 0]


def blocked_cholesky(xp, A, block: int):
    """Lower Cholesky factors of stacked SPD matrices, right-looking by column blocks.

    Per block: a small batched factorization of the diagonal block, a batched triangular
    solve for the panel below it, and a batched matrix product for the trailing update,
    where most of the flops are. For large matrices this trades potrfBatched (written for
    small ones) for GEMM throughput, at about twice the flops. The strict upper triangle
    of the result is not zeroed: the triangular solves never read it.
    """
    tri = _solve_triangular(xp)
    L = A.copy()
    n = A.shape[-1]
    for k in range(0, n, block):
        e = min(k + block, n)
        L[:, k:e, k:e] = xp.linalg.cholesky(L[:, k:e, k:e])
        if e < n:  # L21 = A21 L11^-T, then A22 -= L21 L21^T
            panel = tri(L[:, k:e, k:e], L[:, e:, k:e].transpose(0, 2, 1), lower=True)
            L[:, e:, k:e] = panel.transpose(0, 2, 1)
            L[:, e:, e:] -= panel.transpose(0, 2, 1) @ panel
    return L


def _solve_triangular(xp):
    """Batched triangular solve: CuPy's (cuBLAS trsmBatched) or SciPy's (>= 1.15)."""
    if xp is np:
        from scipy.linalg import solve_triangular
    else:
        from cupyx.scipy.linalg import solve_triangular
    return solve_triangular


def row_batches(counts: np.ndarray, width: int, itemsize: int, batch_bytes: int = BATCH_BYTES):
    """Yield (rows, longest) batches of row indices, longest rows first.

    A batch of g rows whose longest has L ratings needs g * L * width (gathered vectors)
    and g * width² (normal matrices) elements; both stay under ``batch_bytes``.
    """
    order = np.argsort(-counts, kind="stable")
    per_matrix = width * width * itemsize
    start = 0
    while start < len(order):
        longest = int(counts[order[start]])
        per_row = max(longest * width * itemsize, per_matrix)
        g = max(1, batch_bytes // per_row)
        yield order[start:start + g], longest
        start += g


def als_half_step(rows: Csr, X, x_bias, problem: RowProblem, Y, y_bias,
                  options: GpuSolve = ON_GPU) -> None:
    """Solve every row of ``Y`` (and ``y_bias`` when ``fit_bias``) given the other side ``X``.

    Arguments as for the CPU kernel; arrays may live on the host or the device; results
    are written into ``Y``/``y_bias`` wherever they live. ``options``: :class:`GpuSolve`.
    """
    indptr, cols, vals = rows.indptr, rows.indices, rows.data
    coef, gram, fit_bias, reg, reg_bias, weighted, cg_steps = problem
    xp = options.xp if options.xp is not None else arrays.gpu_array_module()
    d = X.shape[1]
    D = d + 1 if fit_bias else d
    dtype = np.float64 if X.dtype == np.float64 else np.float32
    itemsize = np.dtype(dtype).itemsize
    g, a0, a1, b0, b1 = (float(c) for c in to_host(coef))
    ptr = np.asarray(to_host(indptr), dtype=np.int64)
    counts = np.diff(ptr)
    n_x = X.shape[0]
    Xd = xp.zeros((n_x + 1, D), dtype=dtype)          # row n_x stays zero: the padding
    Xd[:n_x, :d] = xp.asarray(X, dtype=dtype)
    if fit_bias:
        Xd[:n_x, d] = 1.0
    cols_d = xp.asarray(cols)
    v = xp.asarray(vals, dtype=dtype)
    weight = a0 + a1 * v
    target = b0 + b1 * v - xp.asarray(x_bias, dtype=dtype)[cols_d]
    G = xp.asarray(gram, dtype=dtype) if g != 0 else None
    ptr_d, counts_d = xp.asarray(ptr[:-1]), xp.asarray(counts)
    theta = xp.empty((len(counts), D), dtype=dtype)
    if cg_steps > 0:
        theta[:, :d] = xp.asarray(Y, dtype=dtype)
        if fit_bias:
            theta[:, d] = xp.asarray(y_bias, dtype=dtype)
    diag = xp.arange(D)
    ridge = xp.asarray(np.array([reg] * d + [reg_bias] * (D - d), dtype=dtype))
    for rows_h, longest in row_batches(counts, D, itemsize, options.batch_bytes):
        rows = xp.asarray(rows_h)
        n = counts_d[rows]
        mask = xp.arange(longest)[None, :] < n[:, None]
        pos = xp.where(mask, ptr_d[rows][:, None] + xp.arange(longest)[None, :], 0)
        Z = Xd[xp.where(mask, cols_d[pos], n_x)]             # (g, L, D)
        W = xp.where(mask, weight[pos], 0)                    # (g, L)
        rhs = (Z.transpose(0, 2, 1) @ xp.where(mask, target[pos], 0)[..., None])[..., 0]
        scale = xp.maximum(n, 1).astype(dtype) if weighted else xp.ones(len(rows_h), dtype=dtype)
        lam = scale[:, None] * ridge[None, :]                 # (g, D): the diagonal of Λ
        if cg_steps == 0:
            A = Z.transpose(0, 2, 1) @ (W[..., None] * Z)
            if G is not None:
                A[:, :d, :d] += g * G
            A[:, diag, diag] += lam
            theta[rows] = spd_solve(xp, A, rhs, options.cholesky_block)
        else:
            theta[rows] = _cg(xp, BatchSystem(Z, W, G, g, lam), rhs, theta[rows], cg_steps)
    _store(Y, theta[:, :d])
    if fit_bias:
        _store(y_bias, theta[:, d])


def _cg(xp, system: BatchSystem, rhs, x, steps: int):
    """``steps`` conjugate-gradient steps for the stacked systems, all rows in lockstep,
    from ``x``; the matrices are never formed."""
    Z, W, G, g, lam = system
    d = G.shape[0] if G is not None else None

    def matvec(V):
        out = lam * V + (Z.transpose(0, 2, 1) @ (W * (Z @ V[..., None])[..., 0])[..., None])[..., 0]
        if G is not None:
            out[:, :d] += g * (V[:, :d] @ G)
        return out

    r = rhs - matvec(x)
    p = r.copy()
    rs = (r * r).sum(axis=1)
    for _ in range(steps):
        Ap = matvec(p)
        live = rs > 1e-30                                     # converged rows stay put
        step = xp.where(live, rs / xp.where(live, (p * Ap).sum(axis=1), 1), 0)
        x = x + step[:, None] * p
        r = r - step[:, None] * Ap
        rs_new = (r * r).sum(axis=1)
        p = r + xp.where(live, rs_new / xp.where(live, rs, 1), 0)[:, None] * p
        rs = rs_new
    return x


def _store(dest, src) -> None:
    """dest[...] = src across host/device: a NumPy destination receives a host copy."""
    dest[...] = to_host(src) if isinstance(dest, np.ndarray) else src
