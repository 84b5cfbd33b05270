"""Alternating least squares: explicit ratings (ALS, optionally ALS-WR, with biases) and
implicit feedback (WALS: Hu-Koren-Volinsky confidence weights, the model of Spark MLlib's
``implicitPrefs`` and of ``implicit``).

Distribution: users and items are split into contiguous ranges (balanced by solve cost:
ratings plus a per-row part, :func:`hpcrec.kernels.mf_als.row_weights`) owned by the
ranks; each rank receives *all* ratings of its users (sorted canonically, by ``fit``'s
exchange) and of its items (from the users' owners, already in order:
:func:`hpcrec.core.partition.transposed`). A half-step solves the owned rows from their complete
normal equations (in place, warm-starting conjugate gradients from the previous factors)
and an in-place ``Allgatherv`` gives every rank the new rows, so ALS gives the same factors
for any number of ranks (the row solves are identical; only WALS's d x d Gram matrix is an
``Allreduce`` whose summation order depends on the rank count: a last bit in float64, ~1e-6
in the float32 factors after a few iterations). Factors are float32 (as in implicit and
Spark); the Gram matrix and the CG step scalars are float64. Nothing of the size of the
factors or the ratings is allocated per iteration.
"""
from __future__ import annotations

from abc import abstractmethod

import numpy as np

from ..core import partition
from ..core.comm import Comm
from ..core.context import RunContext
from ..core.device import kernel
from ..kernels import mf_als
from ..kernels.csr import csr
from ..kernels.protocols import RowProblem, Side
from .base import FactorModel, require

_INIT = 1
SOLVERS = ("cg", "cholesky")


class _AlternatingModel(FactorModel):
    """Shared machinery: ownership, rating exchange, the two half-steps.

    A subclass says which least-squares problem a row solves through :meth:`_coef` (see
    :mod:`hpcrec.kernels.mf_als`) and what the training error compares with (``_target``).
    """

    dense_systems = True   # sized by FactorModel._check_system_memory (issue 14)
    takes_by_user = True   # the user side's ratings, on their owners and sorted, from fit
    dtype = np.float32     # factors and CG vectors (as implicit and Spark); Gram and step scalars float64
    fit_bias = False
    reg_bias = 0.0
    _target = (0.0, 1.0)  # the training error's target is t0 + t1 * value

    def __init__(self, factors, epochs, reg, weighted_reg, init_std, solver, cg_steps, seed,
                 device):
        super().__init__(factors, epochs, seed, device)
        self.reg, self.weighted_reg, self.init_std = reg, bool(weighted_reg), init_std
        self.solver, self.cg_steps = solver, cg_steps

    def params(self) -> dict:
        return {**super().params(), "reg": self.reg, "weighted_reg": self.weighted_reg,
                "init_std": self.init_std, "solver": self.solver, "cg_steps": self.cg_steps}

    def _check_params(self) -> None:
        super()._check_params()
        require(np.isfinite(self.reg) and self.reg > 0, f"reg must be a positive number, got {self.reg!r}")
        require(np.isfinite(self.init_std) and self.init_std >= 0, "init_std must be >= 0")
        require(self.solver in SOLVERS, f"solver must be one of {', '.join(SOLVERS)}, got {self.solver!r}")
        require(isinstance(self.cg_steps, (int, np.integer)) and self.cg_steps > 0,
                f"cg_steps must be a positive integer, got {self.cg_steps!r}")

    @abstractmethod
    def _coef(self) -> np.ndarray:
        """(g, a0, a1, b0, b1) of the row problem (see :mod:`hpcrec.kernels.mf_als`)."""

    def _user_bounds(self, counts, n_items, comm):
        """Rows balanced by solve cost (ratings plus a per-row part), not by ratings alone."""
        return partition.balanced_bounds(
            mf_als.row_weights(counts, n_items, self.factors, np.dtype(self.dtype).itemsize), comm.size)

    def _observed(self, ptr, cols, vals):
        """The ratings a side trains on, (row pointers, cols, vals) (after the exchange;
        the implicit model filters)."""
        return ptr, cols, vals

    def _prepare(self, train, ctx: RunContext) -> None:
        comm = ctx.comm
        self._als_half_step = kernel("als", ctx.device)
        n_u, n_i, d = train.n_users, train.n_items, self.factors
        cg_scratch = 5 * 4 * min(mf_als.CG_BLOCK, max(n_u, n_i)) * (d + 1)  # x, r, p, Ap, V G
        ctx.memory.check(4 * (n_u + n_i) * (d + 2) + 32 * train.n_total // comm.size + cg_scratch,
                         f"{self.name} factors (kept whole on every rank)",
                         "use fewer factors or more memory per rank", comm)
        owned, self._by_user = self._by_user, None   # the user side, from fit's _set_seen
        if owned is None:
            cu = partition.global_counts(train.user, n_u, comm)
            owned = partition.by_rows(train.user, train.item, train.rating, cu,
                                      self._user_bounds(cu, n_i, comm), comm)
        with comm.collective_errors():   # the item side, balanced the same way
            item_bounds, *by_item = partition.transposed(
                owned, n_i, lambda counts: self._user_bounds(counts, n_u, comm), comm)
        self._sides = []
        for bounds, (ptr, cols, vals), n_cols in ((owned.bounds, (owned.ptr, owned.cols, owned.vals), n_i),
                                                  (item_bounds, by_item, n_u)):
            ptr, cols, vals = self._observed(ptr, cols, vals)
            self._sides.append((bounds, int(bounds[comm.rank]), int(bounds[comm.rank + 1]),
                                csr(ptr, cols, vals.astype(self.dtype, copy=False), n_cols)))
        del owned, by_item
        self.P = np.zeros((n_u, d), dtype=self.dtype)
        self.Q = (np.random.default_rng([self.seed, _INIT]).normal(0.0, self.init_std, (n_i, d))
                  .astype(self.dtype))
        self.bu, self.bi = np.zeros(n_u, dtype=self.dtype), np.zeros(n_i, dtype=self.dtype)
        self._gram = np.zeros((d, d))

    def _half_step(self, side: int, comm: Comm) -> None:
        """Solve this rank's rows of one side in place, then share them (in place)."""
        bounds, lo, hi, rows = self._sides[side]
        Y, yb, X, xb = (self.P, self.bu, self.Q, self.bi) if side == 0 else (self.Q, self.bi, self.P, self.bu)
        coef = self._coef()
        if coef[0] != 0:  # Σ_all x xᵀ: each rank adds its own rows, then a d x d Allreduce
            xlo, xhi = self._sides[1 - side][1:3]
            mf_als.gram(X, xlo, xhi, self._gram)
            comm.allreduce(self._gram)
        cg_steps = self.cg_steps if self.solver == "cg" else 0
        problem = RowProblem(coef, self._gram, self.fit_bias, self.reg, self.reg_bias,
                             self.weighted_reg, cg_steps)
        self._als_half_step(rows, X, xb, problem, Y[lo:hi], yb[lo:hi])
        comm.allgather_rows(Y, bounds)
        if self.fit_bias:
            comm.allgather_rows(yb, bounds)

    def _epoch(self, epoch: int, comm: Comm) -> dict:
        self._half_step(0, comm)
        self._half_step(1, comm)
        bounds, lo, hi, rows = self._sides[0]
        offset = self.mu if self.centred else 0.0
        sse = comm.allreduce(np.array([
            mf_als.sse(rows, Side(self.P, self.bu), lo, Side(self.Q, self.bi), (offset, *self._target)),
            len(rows.data)]))
        return {"train_rmse": float(np.sqrt(sse[0] / max(sse[1], 1))), "loss_data": float(sse[0])}

    def _losses(self, epoch: int) -> dict:
        norms = float(sum(np.einsum("ij,ij->", A, A, dtype=np.float64) for A in (self.P, self.Q)))
        return {"loss_reg": self.reg * norms}


class ALS(_AlternatingModel):
    """Explicit-rating ALS with user/item biases; ``weighted_reg`` scales λ by each row's
    rating count (ALS-WR, Zhou et al. 2008).

    Loss: Σ (r - μ - b_u - b_i - <p_u, q_i>)² + Σ_rows λ_row (|θ|² + reg_bias/reg · b²).
    ``solver="cg"``: ``cg_steps`` conjugate-gradient steps per row and half-step, started
    from the last factors; ``"cholesky"``: the exact row solution.
    """

    name = "als"
    fit_bias = True

    def __init__(self, factors: int = 64, epochs: int = 10, reg: float = 0.1,
                 weighted_reg: bool = True, reg_bias: float | None = None,
                 init_std: float = 0.1, solver: str = "cg", cg_steps: int = 3,
                 seed: int = 0, device: str = "cpu"):
        super().__init__(factors, epochs, reg, weighted_reg, init_std, solver, cg_steps, seed, device)
        self.reg_bias_param = reg_bias
        self.reg_bias = reg if reg_bias is None else reg_bias

    def params(self) -> dict:
        return {**super().params(), "reg_bias": self.reg_bias_param}

    def _coef(self) -> np.ndarray:
        return np.array([0.0, 1.0, 0.0, -self.mu, 1.0])


class WALS(_AlternatingModel):
    """ALS for implicit feedback (Hu, Koren, Volinsky 2008), Spark MLlib's convention:

        Σ_all c_ui (p_ui - <x_u, y_i>)² + λ (Σ_u n_u |x_u|² + Σ_i n_i |y_i|²),

    p_ui = 1 where (u, i) has a value r_ui > 0 (0 elsewhere), confidence c_ui = 1 + α r_ui
    (1 elsewhere), n_u / n_i the row's count of values (ALS-WR, as Spark scales λ; with
    ``weighted_reg=False`` plain λ). The unobserved entries enter through the Gram matrix,
    O(d²) per row instead of O(items). ``threshold``: train on the ratings >= threshold
    only, each as value 1 (explicit ratings as positives); the rest of the file still
    counts as seen by ``recommend``. ``solver``/``cg_steps`` as for :class:`ALS`.
    Predictions are scores (preference estimates), not ratings.
    """

    name = "wals"
    centred = False
    clip = False
    _target = (1.0, 0.0)  # the training error compares with the preference 1

    def __init__(self, factors: int = 64, epochs: int = 15, reg: float = 0.25, alpha: float = 1.0,
                 threshold: float | None = None, weighted_reg: bool = True, init_std: float = 0.01,
                 solver: str = "cg", cg_steps: int = 3, seed: int = 0, device: str = "cpu"):
        super().__init__(factors, epochs, reg, weighted_reg, init_std, solver, cg_steps, seed, device)
        self.alpha, self.threshold = alpha, threshold

    def params(self) -> dict:
        return {**super().params(), "alpha": self.alpha, "threshold": self.threshold}

    def _check_params(self) -> None:
        super()._check_params()
        require(np.isfinite(self.alpha) and self.alpha >= 0, f"alpha must be >= 0, got {self.alpha!r}")
        require(self.threshold is None or np.isfinite(self.threshold),
                f"threshold must be a number, got {self.threshold!r}")

    def _coef(self) -> np.ndarray:
        return np.array([1.0, 0.0, self.alpha, 1.0, self.alpha])

    def _observed(self, ptr, cols, vals):
        if self.threshold is not None:
            keep = vals >= self.threshold
            kept_before = np.concatenate(([0], np.cumsum(keep, dtype=np.int64)))
            return kept_before[ptr], cols[keep], np.ones(int(keep.sum()), dtype=vals.dtype)
        require(bool(np.all(vals > 0)), "implicit feedback values must be > 0 (confidence 1 + alpha * value); "
                "pass --threshold to turn ratings into positives")
        return ptr, cols, vals
