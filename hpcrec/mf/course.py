"""The course's matrix-factorization model (Google's recommendation-systems colab), trained
by full-batch or mini-batch gradient descent, written against the array module so the same
code runs on NumPy and on CuPy.

Loss (N users, M items, n observed pairs in the batch):

    L = 1/n Σ_obs (<U_i, V_j> - r_ij)²                      observed mean squared error
      + reg · (1/N Σ_i |U_i|² + 1/M Σ_j |V_j|²)             regularization
      + gravity · 1/(MN) Σ_i Σ_j <U_i, V_j>²                 gravity (pulls all scores to 0)

The gravity term equals 1/(MN) · sum((UᵀU) ⊙ (VᵀV)), computed from two d x d Gram
matrices (each a d x d ``Allreduce`` over the ranks' row ranges) — U Vᵀ is never formed.
Under MPI every rank keeps U and V whole, computes the gradient of its shard of ratings and
the observed-part gradients are summed by ``Allreduce``; on GPUs the sums take the device
buffers directly when the MPI is CUDA-aware (:func:`hpcrec.core.gpu_mpi.device_allreduce`).
"""
from __future__ import annotations

import numpy as np

from ..core.comm import Comm
from ..core.context import RunContext
from ..core.device import array_module, sparse_module, to_host
from ..core.gpu_mpi import device_allreduce
from .base import FactorModel, require

_INIT, _EPOCH = 1, 3


def gram(xp, X, comm: Comm):
    """XᵀX (float64) of a row-replicated X: each rank multiplies its row range, then Allreduce."""
    lo, hi = comm.chunk(X.shape[0])
    part = X[lo:hi].astype(xp.float64)
    # einsum, not BLAS: threaded BLAS on these thin shapes was measured 100-1000x slower
    # on a loaded node (its threads spin-wait for busy cores)
    return device_allreduce(comm, xp.ascontiguousarray(xp.einsum("ij,ik->jk", part, part)))


def loss_and_grad(xp, U, V, u, i, r, n, reg, gravity, comm: Comm):
    """Loss components and the gradients (dU, dV) of the course's loss.

    ``u, i, r`` are this rank's ratings of the batch sorted by user, ``n`` the batch size
    over all ranks.
    """
    N, M = U.shape[0], V.shape[0]
    Uu, Vi = U[u], V[i]
    err = xp.einsum("ij,ij->i", Uu, Vi) - r
    # gradient of the observed part: (2/n) E V and (2/n) Eᵀ U, E the sparse error matrix
    # (CSR straight from the user-sorted ratings; repeated pairs are summed by the product)
    indptr = xp.searchsorted(u, xp.arange(N + 1))
    E = sparse_module(xp).csr_matrix(((2.0 / n) * err, i, indptr), shape=(N, M))
    dU, dV = E @ V, E.T @ U
    sse = xp.asarray([(err * err).sum()])
    dU, dV, sse = (device_allreduce(comm, xp.ascontiguousarray(a)) for a in (dU, dV, sse))
    GU, GV = gram(xp, U, comm), gram(xp, V, comm)
    g = 2.0 * gravity / (M * N)
    dU += (2.0 * reg / N) * U + g * xp.einsum("ij,jk->ik", U, GV.astype(U.dtype))
    dV += (2.0 * reg / M) * V + g * xp.einsum("ij,jk->ik", V, GU.astype(V.dtype))
    mse = float(sse[0]) / n
    reg_loss = reg * (float((U * U).sum()) / N + float((V * V).sum()) / M)
    grav_loss = gravity * float((GU * GV).sum()) / (M * N)
    return {"mse": mse, "reg": reg_loss, "gravity": grav_loss}, dU, dV


class CourseGD(FactorModel):
    """The course's model: U, V ~ N(0, init_std²), plain GD with learning rate ``lr``.

    ``batch_size=None`` is full-batch GD (one step per epoch), else the shuffled ratings
    are cut into about n / batch_size mini-batches per epoch.
    """

    name = "course-gd"
    centred = False
    clip = False

    def __init__(self, factors: int = 30, epochs: int = 1000, lr: float = 10.0, reg: float = 0.0,
                 gravity: float = 0.0, init_std: float = 0.5, batch_size: int | None = None,
                 dtype: str = "float32", seed: int = 0, device: str = "cpu"):
        super().__init__(factors, epochs, seed, device)
        self.lr, self.reg, self.gravity, self.init_std = lr, reg, gravity, init_std
        self.batch_size, self.dtype = batch_size, dtype

    def params(self) -> dict:
        return {**super().params(), "lr": self.lr, "reg": self.reg, "gravity": self.gravity,
                "init_std": self.init_std, "batch_size": self.batch_size, "dtype": self.dtype}

    def _check_params(self) -> None:
        super()._check_params()
        for key in ("lr", "reg", "gravity", "init_std"):
            value = getattr(self, key)
            require(np.isfinite(value) and value >= 0, f"{key} must be a finite number >= 0, got {value!r}")
        require(self.batch_size is None or (isinstance(self.batch_size, (int, np.integer))
                                            and self.batch_size > 0), "batch_size must be positive")
        require(self.dtype in ("float32", "float64"), "dtype must be float32 or float64")

    def _prepare(self, train, ctx: RunContext) -> None:
        comm = ctx.comm
        self._xp = xp = array_module(ctx.device)
        n_u, n_i, d = train.n_users, train.n_items, self.factors
        ctx.memory.check(4 * (n_u + n_i) * d * np.dtype(self.dtype).itemsize + 64 * d * train.nnz,
                         "course-gd factors and gradients", "use fewer factors or mini-batches", comm)
        rng = np.random.default_rng([self.seed, _INIT])
        self.P = rng.normal(0.0, self.init_std, (n_u, d)).astype(self.dtype)
        self.Q = rng.normal(0.0, self.init_std, (n_i, d)).astype(self.dtype)
        self.bu, self.bi = np.zeros(n_u, self.dtype), np.zeros(n_i, self.dtype)
        order = np.lexsort((train.item, train.user))
        self._data = tuple(xp.asarray(a[order]) for a in (train.user.astype(np.int64),
                                                          train.item.astype(np.int64),
                                                          train.rating.astype(self.dtype)))
        self._n_total = train.n_total

    def _batches(self, epoch: int, comm: Comm):
        """This rank's part of each mini-batch and the batch size over all ranks."""
        u, i, r = self._data
        if self.batch_size is None:
            yield u, i, r, self._n_total
            return
        xp = self._xp
        n_batches = max(1, round(self._n_total / self.batch_size))
        perm = xp.asarray(np.random.default_rng([self.seed, _EPOCH, epoch, comm.rank]).permutation(len(r)))
        for part in np.array_split(np.arange(len(r)), n_batches):
            idx = xp.sort(perm[xp.asarray(part)])  # data are user-sorted: so is the batch
            n = comm.allreduce_scalar(len(part))
            if n:
                yield u[idx], i[idx], r[idx], n

    def _epoch(self, epoch: int, comm: Comm) -> dict:
        xp = self._xp
        U, V = xp.asarray(self.P), xp.asarray(self.Q)
        for u, i, r, n in self._batches(epoch, comm):
            parts, dU, dV = loss_and_grad(xp, U, V, u, i, r, n, self.reg, self.gravity, comm)
            U -= self.lr * dU
            V -= self.lr * dV
        self.P, self.Q = to_host(U), to_host(V)
        return {"train_rmse": float(np.sqrt(parts["mse"])), "train_mse": parts["mse"],
                "loss_reg": parts["reg"], "loss_gravity": parts["gravity"],
                "loss": parts["mse"] + parts["reg"] + parts["gravity"]}
