"""Numba CPU kernel for biased matrix factorization trained by SGD over a block schedule.

The rating matrix is cut into a grid of blocks (user ranges x item ranges). A *round*
lists blocks that share no user and no item, so the threads of a ``prange`` update them
concurrently without races (Hogwild-style parallelism made conflict-free, hence
deterministic for any thread count). Inside a block ratings are stored user by user, so
the user row stays in registers/L1 while the block's item rows stay in L2 (the locality
LIBMF's FPSGD exploits); randomness comes from the caller's seeded round order.

One SGD step is a chain of dependent latencies (dot product, horizontal sum, error,
update; the next rating of the same user reads the row just written), so a core working
through one block at a time mostly waits. A thread therefore walks two blocks of a round
side by side, a rating of each in turn: the two steps are independent and the core
overlaps them. The result is bit for bit that of the blocks one after the other, because
the blocks share nothing and every step runs through the same compiled code. Pairing
doubles the item rows in use, so it is only done while two blocks' item rows fit in the
core's L2 cache (on 10 M ratings at d = 128 they do not, and pairing is 20 % slower).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numba as nb
import numpy as np

from .protocols import BlockedRatings, Factors, SgdRates


@nb.njit(fastmath=True, inline="always")
def _step(n, ratings, P, Q, bu, bi, c):
    """SGD step on rating ``n`` of ``ratings`` (:class:`BlockedRatings`), updating the
    factors; ``c`` = (mu, lr, keep, lr_bias, reg_bias) in float32. Error before the update,
    the old p_u in q_i's update, p += lr (err q - reg p) written as p = keep p + (lr err) q
    with keep = 1 - lr reg (two multiplications per element instead of three). Returns the
    squared error."""
    user, item, rating, _ = ratings
    mu, lr, keep, lr_b, reg_b = c
    n = np.uint64(n)  # unsigned indices: no negative-index wraparound code in the hot loop
    u = np.uint64(user[n])
    i = np.uint64(item[n])
    pu = P[u]
    qi = Q[i]
    dot = np.float32(0.0)
    for k in range(pu.shape[0]):
        dot += pu[k] * qi[k]
    bu_u = bu[u]
    bi_i = bi[i]
    err = rating[n] - (mu + bu_u + bi_i + dot)
    step = lr * err
    for k in range(pu.shape[0]):
        p = pu[k]
        q = qi[k]
        pu[k] = keep * p + step * q
        qi[k] = keep * q + step * p
    bu[u] = bu_u + lr_b * (err - reg_b * bu_u)
    bi[i] = bi_i + lr_b * (err - reg_b * bi_i)
    return err * err


@nb.njit(parallel=True, fastmath=True, cache=True)
def _run_rounds(ratings, rounds, P, Q, bu, bi, rates, pair):
    """:func:`sgd_epoch` with ``pair`` (1 or 2) blocks per thread at a time.

    The factors come flat, not as a :class:`Factors` pack: inside Numba's parallel loops,
    writes to arrays reached through a tuple are silently lost (numba issue 5872, still
    seen with Numba 0.68; reads are fine), so every array a parallel loop writes is an
    argument of its own."""
    block_ptr = ratings.block_ptr
    mu, lr, lr_bias, reg, reg_bias = rates
    c = (np.float32(mu), np.float32(lr), np.float32(1.0 - lr * reg), np.float32(lr_bias),
         np.float32(reg_bias))
    n_rounds, width = rounds.shape
    sse = np.zeros(width, dtype=np.float64)
    total = 0.0
    for t in range(n_rounds):
        sse[:] = 0.0
        for s in nb.prange((width + pair - 1) // pair):
            wa = s * pair
            wb = wa + 1 if pair == 2 and wa + 1 < width else -1
            a0 = a1 = b0 = b1 = 0
            if rounds[t, wa] >= 0:
                a0, a1 = block_ptr[rounds[t, wa]], block_ptr[rounds[t, wa] + 1]
            if wb >= 0 and rounds[t, wb] >= 0:
                b0, b1 = block_ptr[rounds[t, wb]], block_ptr[rounds[t, wb] + 1]
            acc_a = 0.0
            acc_b = 0.0
            # k even: rating k/2 of block a, k odd: of block b. One call site, so one
            # compiled step (the same float operations) for both blocks and any pairing.
            for k in range(2 * max(a1 - a0, b1 - b0)):
                j = k >> 1
                odd = k & 1
                if j >= (b1 - b0 if odd else a1 - a0):
                    continue
                e2 = _step((b0 if odd else a0) + j, ratings, P, Q, bu, bi, c)
                if odd:
                    acc_b += e2
                else:
                    acc_a += e2
            sse[wa] = acc_a
            if wb >= 0:
                sse[wb] = acc_b
        for w in range(width):  # fixed order: the sum does not depend on the threads
            total += sse[w]
    return total


@nb.njit(cache=True)
def block_layout(user, item, rating, lo, user_block, item_block, n_blocks):
    """(block_ptr, user, item, rating): the ratings of users ``lo..`` grouped by block
    ``item_block[item] + user_block[user - lo]`` (ints in 0..n_blocks-1), stably (the
    input's order inside a block), by one counting pass and one scatter."""
    n = user.size
    block = np.empty(n, np.int32)
    ptr = np.zeros(n_blocks + 1, np.int64)
    for p in range(n):
        b = item_block[item[p]] + user_block[user[p] - lo]
        block[p] = b
        ptr[b + 1] += 1
    for b in range(n_blocks):
        ptr[b + 1] += ptr[b]
    fill = ptr[:-1].copy()
    out_user, out_item, out_rating = np.empty_like(user), np.empty_like(item), np.empty_like(rating)
    for p in range(n):
        at = fill[block[p]]
        fill[block[p]] += 1
        out_user[at], out_item[at], out_rating[at] = user[p], item[p], rating[p]
    return ptr, out_user, out_item, out_rating


def sgd_epoch(ratings: BlockedRatings, rounds, factors: Factors, rates: SgdRates) -> float:
    """One pass over the blocks listed in ``rounds``; returns the sum of squared errors
    (protocol :class:`~hpcrec.kernels.protocols.SgdEpoch`).

    ratings: user, item (int32), rating (float32) grouped by block (block b is
    ``block_ptr[b]:block_ptr[b+1]``). rounds: int64 (n_rounds, width) block ids, -1 for
    padding; the blocks of one row of ``rounds`` must be pairwise independent (no shared
    user or item). factors: P, Q (float32, rows are users / items; fastest when they start
    on a 64-byte boundary), bu, bi, updated in place. The error is measured before each
    update (the running training error of the epoch, as LIBMF reports it).
    """
    # Two blocks per thread while that leaves every thread a slot and their item rows fit
    # in L2 (a block's share of Q: blocks of a round cover the items once). The pairing
    # does not change the result.
    width = rounds.shape[1]
    block_item_bytes = factors.Q.nbytes * width / max(len(ratings.block_ptr) - 1, 1)
    pair = 2 if 2 * nb.get_num_threads() <= width and 2 * block_item_bytes <= _l2_bytes() else 1
    return _run_rounds(BlockedRatings(*ratings), rounds, *factors,
                       SgdRates(*(float(x) for x in rates)), pair)


@lru_cache(maxsize=1)
def _l2_bytes() -> int:
    """Size of one core's L2 cache (Linux sysfs); 1 MiB where it cannot be read."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    try:
        for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
            if (index / "level").read_text().strip() == "2":
                size = (index / "size").read_text().strip()
                return int(size[:-1]) * units[size[-1]] if size[-1] in units else int(size)
    except (OSError, ValueError):
        pass
    return 1 << 20
