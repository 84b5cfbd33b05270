"""Biased matrix factorization trained by SGD: r̂ = μ + b_u + b_i + <p_u, q_i>.

Loss per rating (Funk / Koren): (r - r̂)² + reg (|p_u|² + |q_i|²) + reg_bias (b_u² + b_i²),
one SGD step per rating, learning rate ``lr * decay**epoch``.

Distribution (DSGD, Gemulla et al. 2011): rank r owns a contiguous user range (balanced by
ratings) and receives all of its users' ratings; items form p super-blocks. An epoch is p
sub-epochs: in sub-epoch s rank r updates the ratings of its users in item super-block
(r + s) mod p — no two ranks touch the same item — then the super-blocks are exchanged
(``Allgatherv``). User rows change only on their owner, so they are gathered only when
the complete model is needed (test scoring, callback, checkpoint, end of training), not
every epoch. Inside a rank the (user range x super-block) is cut again into
``blocks x blocks`` sub-blocks processed diagonal by diagonal by the threads (FPSGD-style:
conflict-free, cache-friendly). The result is a serial SGD in a particular order, so p
ranks reach the accuracy of one; it is deterministic for a fixed seed and rank count
(any thread count: the block grid does not depend on it).
"""
from __future__ import annotations

import numpy as np

from ..core import partition
from ..core.comm import Comm
from ..core.context import RunContext
from ..core.device import array_module, kernel
from ..kernels import mf_sgd
from ..kernels.protocols import BlockedRatings, Factors, SgdRates
from .base import FactorModel, require

_INIT, _EPOCH = 1, 3  # seed-sequence tags of the random streams
_LINE = 64  # bytes in a cache line
_INIT_ROWS = 1 << 16  # factor rows per seeded initial-value stream


def _line_aligned(a):
    """``a``, or a C-contiguous copy of it starting on a cache-line boundary if it is a
    NumPy array that does not (NumPy itself only guarantees 16 bytes)."""
    if not isinstance(a, np.ndarray) or (a.flags.c_contiguous and a.ctypes.data % _LINE == 0):
        return a
    buf = np.empty(a.nbytes + _LINE, dtype=np.uint8)
    start = -buf.ctypes.data % _LINE
    out = buf[start:start + a.nbytes].view(a.dtype).reshape(a.shape)
    out[...] = a
    return out


def _normal_rows(seed: int, tag: int, lo: int, hi: int, d: int, std: float) -> np.ndarray:
    """Rows ``lo:hi`` of an N(0, std) float32 matrix of width ``d`` whose rows are drawn in
    chunks of ``_INIT_ROWS``, each chunk from its own seeded stream: a rank draws only the
    chunks its rows touch, and every rank count gets the same matrix."""
    first, last = lo // _INIT_ROWS, -(-hi // _INIT_ROWS)
    out = np.empty((hi - lo, d), dtype=np.float32)
    for c in range(first, last):
        a, b = max(lo, c * _INIT_ROWS), min(hi, (c + 1) * _INIT_ROWS)
        rng = np.random.default_rng([seed, _INIT, tag, c])
        chunk = rng.standard_normal((b - c * _INIT_ROWS, d), dtype=np.float32)
        out[a - lo:b - lo] = chunk[a - c * _INIT_ROWS:]
    out *= np.float32(std)
    return out


class BiasedSGD(FactorModel):
    """Biased MF by SGD (defaults tuned on MovieLens 100K, see benchmarks/README.md)."""

    name = "biased-sgd"
    takes_by_user = True   # its users' ratings, already on their owners and sorted

    def __init__(self, factors: int = 128, epochs: int = 50, lr: float = 0.02, reg: float = 0.08,
                 lr_bias: float | None = None, reg_bias: float | None = 0.02,
                 decay: float = 0.96, init_std: float = 0.02, blocks: int = 8,
                 order: str = "blocked", seed: int = 0, device: str = "cpu"):
        super().__init__(factors, epochs, seed, device)
        self.lr, self.reg, self.decay, self.init_std = lr, reg, decay, init_std
        self.lr_bias, self.reg_bias = lr_bias, reg_bias
        self.blocks, self.order = blocks, order

    def params(self) -> dict:
        return {**super().params(), "lr": self.lr, "reg": self.reg, "lr_bias": self.lr_bias,
                "reg_bias": self.reg_bias, "decay": self.decay, "init_std": self.init_std,
                "blocks": self.blocks, "order": self.order}

    def _check_params(self) -> None:
        super()._check_params()
        for key in ("lr", "reg", "decay", "init_std"):
            value = getattr(self, key)
            require(np.isfinite(value) and value >= 0, f"{key} must be a finite number >= 0, got {value!r}")
        require(self.lr > 0 and self.decay > 0, "lr and decay must be positive")
        require(isinstance(self.blocks, (int, np.integer)) and self.blocks >= 1,
                f"blocks must be a positive integer, got {self.blocks!r}")
        require(self.order in ("blocked", "shuffled"),
                f"order must be 'blocked' or 'shuffled', got {self.order!r}")

    def _prepare(self, train, ctx: RunContext) -> None:
        comm, device = ctx.comm, ctx.device
        self._sgd_epoch, self._xp = kernel("sgd", device), array_module(device)
        n_u, n_i, d, p, g = train.n_users, train.n_items, self.factors, comm.size, self.blocks
        ctx.memory.check(4 * (n_u + n_i) * (d + 1) + 32 * train.n_total // p, "biased SGD factors",
                         "use fewer factors or more nodes", comm)
        owned, self._by_user = self._by_user, None   # from fit's _set_seen: freed with this frame
        if owned is None:
            cu = partition.global_counts(train.user, n_u, comm)
            owned = partition.by_rows(train.user, train.item, train.rating, cu,
                                      self._user_bounds(cu, n_i, comm), comm)
        ci = partition.global_counts(train.item, n_i, comm)
        self._ub, cu = owned.bounds, owned.counts
        self._ib = partition.balanced_bounds(ci, p)
        u, i, r = owned.rows, owned.cols, owned.vals   # this rank's users, sorted by (u, i, r)
        del owned
        lo, hi = self._ub[comm.rank], self._ub[comm.rank + 1]
        self._comm, self._own = comm, slice(lo, hi)
        # Block of each local rating: (item super-block c, user sub-block a, item sub-block b),
        # block id c * g * g + a * g + b, from a table per item and per local user.
        ub_local = partition.balanced_bounds(cu, g, lo, hi)
        ib_sub = np.concatenate([partition.balanced_bounds(ci, g, self._ib[c], self._ib[c + 1])[:-1]
                                 for c in range(p)] + [[n_i]])
        cb = np.repeat(np.arange(p * g, dtype=np.int64), np.diff(ib_sub))  # c * g + b per item
        item_block = ((cb // g) * g * g + cb % g).astype(np.int32)
        user_block = np.repeat(np.arange(g, dtype=np.int32) * g, np.diff(ub_local))
        # Grouped by block stably, so the (user, item, rating) order stays inside a block:
        # user by user, a user's items in index order (the same for any reading of the input
        # and any rank count; ascending items also read Q in address order).
        ptr, u, i, r = mf_sgd.block_layout(u, i, r, lo, user_block, item_block, p * g * g)
        # The kernel's ratings: on a GPU they stay on the device for the whole training.
        self._ptr, self._ratings = ptr, tuple(self._xp.asarray(a) for a in (u, i, r))
        del u, i, r
        # Each rank draws its own user rows only (the others are gathered when the whole
        # model is needed: _complete); rows come in seeded chunks, so any rank count draws
        # the same model.
        self.P = np.zeros((n_u, d), dtype=np.float32)
        self.P[lo:hi] = _normal_rows(self.seed, 0, lo, hi, d, self.init_std)
        self.Q = _normal_rows(self.seed, 1, 0, n_i, d, self.init_std)
        self.bu = np.zeros(n_u, dtype=np.float32)
        self.bi = np.zeros(n_i, dtype=np.float32)
        self._p_stale = p > 1

    def _epoch(self, epoch: int, comm: Comm) -> dict:
        p, g, rank = comm.size, self.blocks, comm.rank
        rng = np.random.default_rng([self.seed, _EPOCH, epoch])
        lr = self.lr * self.decay ** epoch
        lr_b = (self.lr if self.lr_bias is None else self.lr_bias) * self.decay ** epoch
        reg_b = self.reg if self.reg_bias is None else self.reg_bias
        # Rows of whole cache lines (d = 16k) then never straddle two lines: ~1.25x faster.
        self.P, self.Q = _line_aligned(self.P), _line_aligned(self.Q)
        u, i, r = self._ratings
        if self.order == "shuffled":  # a fresh random order inside every block (slower)
            block = np.repeat(np.arange(len(self._ptr) - 1), np.diff(self._ptr))
            perm = self._xp.asarray(np.lexsort((rng.random(len(r)), block)))
            u, i, r = u[perm], i[perm], r[perm]
        sse = 0.0
        ratings = BlockedRatings(u, i, r, self._ptr)
        factors = Factors(self.P, self.Q, self.bu, self.bi)
        rates = SgdRates(self.mu, lr, lr_b, self.reg, reg_b)
        a = np.arange(g, dtype=np.int64)  # user sub-block
        for s in range(p):
            shifts, pi = rng.permutation(g), rng.permutation(g)
            c = (rank + s) % p
            # round t: user sub-block a with item sub-block pi[(a + t) % g], t in shifts order
            rounds = c * g * g + a * g + pi[(a + shifts[:, None]) % g]
            sse += self._sgd_epoch(ratings, rounds, factors, rates)
            if p > 1:  # super-block (r + s) mod p of every rank r, to everybody
                self._share_rows(self._ib, [(q + s) % p for q in range(p)], comm, self.Q, self.bi)
        self._p_stale = p > 1  # other ranks' user rows moved on their owners
        n = comm.allreduce(np.array([sse, len(r)], dtype=np.float64))
        return {"train_rmse": float(np.sqrt(n[0] / max(n[1], 1))), "loss_data": float(n[0]), "lr": lr}

    def _complete(self, comm: Comm) -> None:
        if self._p_stale:
            self._share_rows(self._ub, list(range(comm.size)), comm, self.P, self.bu)
            self._p_stale = False

    def _losses(self, epoch: int) -> dict:
        """Regularization loss; user rows summed over their owners (Q, bi are complete)."""
        reg_b = self.reg if self.reg_bias is None else self.reg_bias
        P, bu = self.P[self._own], self.bu[self._own]
        own = self._comm.allreduce(np.array([np.einsum("ij,ij->", P, P), bu @ bu], dtype=np.float64))
        norms = float(own[0] + np.einsum("ij,ij->", self.Q, self.Q))
        return {"loss_reg": self.reg * norms + reg_b * float(own[1] + self.bi @ self.bi)}

    @staticmethod
    def _share_rows(bounds, part_of_rank, comm: Comm, M: np.ndarray, b: np.ndarray) -> None:
        """Every rank r sends rows ``bounds[part_of_rank[r]]`` of M (and b) to all ranks."""
        mine = slice(bounds[part_of_rank[comm.rank]], bounds[part_of_rank[comm.rank] + 1])
        d = M.shape[1]
        packed = np.concatenate((M[mine], b[mine, None]), axis=1).ravel()
        allrows = comm.allgatherv(packed).reshape(-1, d + 1)
        start = 0
        for part in part_of_rank:
            lo, hi = bounds[part], bounds[part + 1]
            M[lo:hi] = allrows[start:start + hi - lo, :d]
            b[lo:hi] = allrows[start:start + hi - lo, d]
            start += hi - lo
