"""Numba CPU kernel for biased matrix factorization trained by SGD over a block schedule.

The rating matrix is cut into a grid of blocks (user ranges x item ranges). A *round*
lists blocks that share no user and no item, so the threads of a ``prange`` update them
concurrently without races (Hogwild-style parallelism made conflict-free, hence
deterministic for any thread count). Inside a block ratings are stored user by user, so
the user row stays in registers/L1 while the block's item rows stay in L2 (the locality
LIBMF's FPSGD exploits); randomness comes from the caller's seeded round order.
"""
from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(fastmath=True, inline="always")
def _update(r, pu, qi, bu_u, bi_i, mu, lr, lr_b, reg, reg_b):
    """One SGD step on one rating; returns (error, new user bias, new item bias)."""
    dot = np.float32(0.0)
    for k in range(pu.shape[0]):
        dot += pu[k] * qi[k]
    err = r - (mu + bu_u + bi_i + dot)
    for k in range(pu.shape[0]):
        p = pu[k]
        q = qi[k]
        pu[k] = p + lr * (err * q - reg * p)
        qi[k] = q + lr * (err * p - reg * q)
    return err, bu_u + lr_b * (err - reg_b * bu_u), bi_i + lr_b * (err - reg_b * bi_i)


@nb.njit(parallel=True, fastmath=True, cache=True)
def sgd_epoch(user, item, rating, block_ptr, rounds, P, Q, bu, bi, mu, lr, lr_bias, reg, reg_bias):
    """One pass over the blocks listed in ``rounds``; returns the sum of squared errors.

    user, item, rating: ratings grouped by block (block b is ``block_ptr[b]:block_ptr[b+1]``).
    rounds: int64 (n_rounds, width) block ids, -1 for padding; the blocks of one row of
    ``rounds`` must be pairwise independent (no shared user or item). P, Q (float32, rows
    are users / items), bu, bi are updated in place. The error is measured before each
    update (the running training error of the epoch, as LIBMF reports it).
    """
    n_rounds, width = rounds.shape
    mu32, lr32, lrb32 = np.float32(mu), np.float32(lr), np.float32(lr_bias)
    reg32, regb32 = np.float32(reg), np.float32(reg_bias)
    sse = np.zeros(width, dtype=np.float64)
    total = 0.0
    for t in range(n_rounds):
        sse[:] = 0.0
        for w in nb.prange(width):
            b = rounds[t, w]
            if b < 0:
                continue
            acc = 0.0
            for n in range(block_ptr[b], block_ptr[b + 1]):
                u = user[n]
                i = item[n]
                err, new_bu, new_bi = _update(rating[n], P[u], Q[i], bu[u], bi[i], mu32,
                                              lr32, lrb32, reg32, regb32)
                bu[u] = new_bu
                bi[i] = new_bi
                acc += err * err
            sse[w] = acc
        for w in range(width):  # fixed order: the sum does not depend on the threads
            total += sse[w]
    return total
