"""Alternating least squares: explicit ratings (ALS, optionally ALS-WR, with biases) and
weighted ALS for implicit feedback (WALS).

Distribution: users and items are split into contiguous ranges (balanced by ratings) owned
by the ranks; each rank receives, by one ``Alltoallv``, *all* ratings of its users and of
its items, sorted canonically. A half-step solves the owned rows from their complete
normal equations and ``Allgatherv`` gives every rank the new factors, so ALS gives the same
factors for any number of ranks (the row solves are identical; only WALS's d x d Gram
matrix is an ``Allreduce`` whose summation order depends on the rank count, ~1e-15).
"""
from __future__ import annotations

import numpy as np

from ..backend import resolve_device
from ..comm import Comm
from . import partition
from .base import FactorModel, check_memory, kernels, require

_INIT = 1


class _AlternatingModel(FactorModel):
    """Shared machinery: ownership, rating exchange, the two half-steps."""

    dense_systems = True   # sized by FactorModel._check_system_memory (issue 14)
    fit_bias = False
    w0 = 0.0
    weighted = False
    reg_bias = 0.0

    def __init__(self, factors, epochs, reg, init_std, seed, device):
        super().__init__(factors, epochs, seed, device)
        self.reg, self.init_std = reg, init_std

    def params(self) -> dict:
        return {**super().params(), "reg": self.reg, "init_std": self.init_std}

    def _check_params(self) -> None:
        super()._check_params()
        require(np.isfinite(self.reg) and self.reg > 0, f"reg must be a positive number, got {self.reg!r}")
        require(np.isfinite(self.init_std) and self.init_std >= 0, "init_std must be >= 0")

    def _prepare(self, train, comm: Comm) -> None:
        self._k = kernels(resolve_device(self.device, comm))
        n_u, n_i, d = train.n_users, train.n_items, self.factors
        check_memory(8 * (n_u + n_i) * (d + 2) + 32 * train.n_total // comm.size,
                     f"{self.name} factors (kept whole on every rank)",
                     "use fewer factors or more memory per rank", comm)
        cu = partition.global_counts(train.user, n_u, comm)
        ci = partition.global_counts(train.item, n_i, comm)
        self._sides = []
        for rows, cols, counts in ((train.user, train.item, cu), (train.item, train.user, ci)):
            bounds = partition.balanced_bounds(counts, comm.size)
            lo, hi = int(bounds[comm.rank]), int(bounds[comm.rank + 1])
            r_, c_, v_ = partition.to_owners(rows, cols, train.rating, bounds, comm)
            self._sides.append((bounds, lo, hi, partition.csr(r_, lo, hi), c_,
                                v_.astype(np.float64)))
        self.P = np.zeros((n_u, d))
        self.Q = np.random.default_rng([self.seed, _INIT]).normal(0.0, self.init_std, (n_i, d))
        self.bu, self.bi = np.zeros(n_u), np.zeros(n_i)

    def _half_step(self, side: int, comm: Comm) -> None:
        bounds, lo, hi, indptr, cols, vals = self._sides[side]
        Y, yb, X, xb = (self.P, self.bu, self.Q, self.bi) if side == 0 else (self.Q, self.bi, self.P, self.bu)
        gram = np.zeros((self.factors, self.factors))
        if self.w0 > 0:  # Σ_all x xᵀ: each rank adds its own rows, then a d x d Allreduce
            xlo, xhi = self._sides[1 - side][1:3]
            gram = comm.allreduce(np.einsum("ij,ik->jk", X[xlo:xhi], X[xlo:xhi]))  # not BLAS: see course.gram
        offset = self.mu if self.centred else 0.0
        out, out_b = np.empty((hi - lo, self.factors)), np.zeros(hi - lo)
        self._k.als_half_step(indptr, cols, vals, X, xb, offset, self.fit_bias, self.reg,
                              self.reg_bias, self.weighted, self.w0, gram, out, out_b)
        packed = np.concatenate((out, out_b[:, None]), axis=1).ravel()
        allrows = comm.allgatherv(packed).reshape(-1, self.factors + 1)
        Y[:] = allrows[:, :-1]
        yb[:] = allrows[:, -1]

    def _epoch(self, epoch: int, comm: Comm) -> dict:
        self._half_step(0, comm)
        self._half_step(1, comm)
        bounds, lo, hi, indptr, cols, vals = self._sides[0]
        users = np.repeat(np.arange(lo, hi), np.diff(indptr))
        sse = comm.allreduce(np.array([self._sse(users, cols, vals), len(vals)]))
        return {"train_rmse": float(np.sqrt(sse[0] / max(sse[1], 1))), "loss_data": float(sse[0])}

    def _losses(self, epoch: int) -> dict:
        norms = float(np.einsum("ij,ij->", self.P, self.P) + np.einsum("ij,ij->", self.Q, self.Q))
        return {"loss_reg": self.reg * norms}


class ALS(_AlternatingModel):
    """Explicit-rating ALS with user/item biases; ``weighted_reg`` scales λ by each row's
    rating count (ALS-WR, Zhou et al. 2008).

    Loss: Σ (r - μ - b_u - b_i - <p_u, q_i>)² + Σ_rows λ_row (|θ|² + reg_bias/reg · b²).
    """

    name = "als"
    fit_bias = True

    def __init__(self, factors: int = 64, epochs: int = 10, reg: float = 0.1,
                 weighted_reg: bool = True, reg_bias: float | None = None,
                 init_std: float = 0.1, seed: int = 0, device: str = "cpu"):
        super().__init__(factors, epochs, reg, init_std, seed, device)
        self.weighted_reg = self.weighted = bool(weighted_reg)
        self.reg_bias_param = reg_bias
        self.reg_bias = reg if reg_bias is None else reg_bias

    def params(self) -> dict:
        return {**super().params(), "weighted_reg": self.weighted_reg, "reg_bias": self.reg_bias_param}


class WALS(_AlternatingModel):
    """Weighted ALS for implicit feedback (the course's formulation):

        Σ_observed (r_ij - <u_i, v_j>)² + w0 Σ_unobserved <u_i, v_j>² + reg (|U|² + |V|²),

    the unobserved sum taken through the Gram matrix, O(d²) per row instead of O(items).
    For 0/1 feedback pass ratings of 1.
    """

    name = "wals"
    centred = False
    clip = False

    def __init__(self, factors: int = 32, epochs: int = 15, reg: float = 0.1, w0: float = 0.05,
                 init_std: float = 0.1, seed: int = 0, device: str = "cpu"):
        super().__init__(factors, epochs, reg, init_std, seed, device)
        self.w0 = w0

    def params(self) -> dict:
        return {**super().params(), "w0": self.w0}

    def _check_params(self) -> None:
        super()._check_params()
        require(np.isfinite(self.w0) and 0 <= self.w0 <= 1, f"w0 must be in [0, 1], got {self.w0!r}")
