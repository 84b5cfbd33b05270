"""Numba kernels of the k-NN recommenders: sparse similarity rows with top-K selection
(:class:`SimilarityRows`, this family's CPU implementation), batched neighborhood
prediction, ALS/SGD baselines.

Notation (as in Surprise): ``x`` is the side whose neighbors are computed (items for an
item-based model, users for a user-based one), ``y`` the other side. The rating matrix is
held twice as a :class:`~hpcrec.kernels.csr.Csr`: x-major (the y's of each x) and y-major
(the x's of each y, sorted). Similarities need both; prediction needs the y-major one and
the neighbor lists (a Csr too, similarities as data, best first).

Every row (and every prediction) is computed by one thread in a fixed order of
operations, so results do not depend on the thread count, the block size or the MPI rank
count.
"""
from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np
from numba import njit, prange

from .csr import Csr

COSINE, MSD, PEARSON, PEARSON_BASELINE = 0, 1, 2, 3
BASELINE, MEANS, BASIC = 0, 1, 2   # prediction rules: KNNBaseline, KNNWithMeans, KNNBasic
BLOCK_ENTRIES = 1 << 22   # rows per block = this / K: bounds the temporary top-K arrays


class Estimator(NamedTuple):
    """How a prediction is made from the neighbors: the ``k`` most similar that rated the
    item (at least ``min_k``, else the fallback), shrunk by ``damping``, by ``rule``
    (BASELINE, MEANS, BASIC) around the global mean ``mu``, biases ``bx``/``by`` and the
    means of x ``xmean``."""
    k: int
    min_k: int
    damping: float
    rule: int
    mu: float
    bx: np.ndarray
    by: np.ndarray
    xmean: np.ndarray


class TopOptions(NamedTuple):
    """Which similarities a row keeps: ``measure`` (COSINE, MSD, PEARSON, PEARSON_BASELINE)
    over at least ``min_support`` co-ratings, pearson-baseline shrunk by ``shrinkage``, the
    ``keep`` best positive ones."""
    measure: int
    min_support: int
    shrinkage: float
    keep: int


class BiasFit(NamedTuple):
    """The baseline fits' problem: biases of ``n_users`` users and ``n_items`` items
    around the mean ``mu``, ``n_epochs`` sweeps."""
    n_users: int
    n_items: int
    mu: float
    n_epochs: int


# -- similarity rows and top-K selection ------------------------------------------------------

@njit(cache=True, inline="always")
def _worse(s1, i1, s2, i2):
    """Order of the top-K lists: higher similarity first, ties by lower index."""
    return s1 < s2 or (s1 == s2 and i1 > i2)


@njit(cache=True)
def _sift_down(hs, hi, size, pos):
    while True:
        child = 2 * pos + 1
        if child >= size:
            return
        if child + 1 < size and _worse(hs[child + 1], hi[child + 1], hs[child], hi[child]):
            child += 1
        if not _worse(hs[child], hi[child], hs[pos], hi[pos]):
            return
        hs[pos], hs[child] = hs[child], hs[pos]
        hi[pos], hi[child] = hi[child], hi[pos]
        pos = child


@njit(cache=True)
def _heap_offer(hs, hi, size, s, i):
    """Offer (s, i) to a min-heap (worst at the root) of capacity len(hs); returns the new size."""
    if size < hs.size:
        pos = size
        hs[pos], hi[pos] = s, i
        while pos > 0:
            parent = (pos - 1) // 2
            if not _worse(hs[pos], hi[pos], hs[parent], hi[parent]):
                break
            hs[pos], hs[parent] = hs[parent], hs[pos]
            hi[pos], hi[parent] = hi[parent], hi[pos]
            pos = parent
        return size + 1
    if _worse(hs[0], hi[0], s, i):
        hs[0], hi[0] = s, i
        _sift_down(hs, hi, size, 0)
    return size


@njit(cache=True)
def _similarities(measure, acc, cand, n_c, out, min_support, shrinkage):
    """Surprise's definitions for the rows ``cand[:n_c]`` from their co-rating sums
    ``acc[x2]`` (count, sum a*b or for MSD sum (a-b)^2, sum a^2, sum b^2, sum a, sum b),
    into ``out`` (0 where undefined), resetting those sums to zero. A loop of its own,
    apart from the selection, so that the divisions and roots overlap."""
    least = max(2, min_support) if measure == PEARSON_BASELINE else max(1, min_support)
    for c in range(n_c):
        x2 = cand[c]
        n = acc[x2, 0]
        if measure == MSD:
            s = 1.0 / (acc[x2, 1] / max(n, 1.0) + 1.0)
        elif measure == PEARSON:
            var = (n * acc[x2, 2] - acc[x2, 4] * acc[x2, 4]) * (n * acc[x2, 3] - acc[x2, 5] * acc[x2, 5])
            s = (n * acc[x2, 1] - acc[x2, 4] * acc[x2, 5]) / np.sqrt(var) if var > 0 else 0.0
            acc[x2, 4] = 0.0
            acc[x2, 5] = 0.0
        else:
            den = acc[x2, 2] * acc[x2, 3]
            s = acc[x2, 1] / np.sqrt(den) if den > 0 else 0.0
            if measure == PEARSON_BASELINE and n >= least:  # n >= 2: never 0 / 0
                s *= (n - 1) / (n - 1 + shrinkage)
        out[c] = s if n >= least else 0.0
        acc[x2, 0] = 0.0
        acc[x2, 1] = 0.0
        acc[x2, 2] = 0.0
        acc[x2, 3] = 0.0


@njit(cache=True)
def _accumulate(x, xr, yr, measure, acc, touched, track):
    """Co-rating sums of row x of ``xr`` (the x-major ratings as (indptr, indices, data);
    ``yr`` the same y-major) with every row sharing a y, into ``acc`` rows (zero before).

    With ``track``, the rows touched (x itself among them) are listed in ``touched`` and
    their number returned; without, the caller scans all of ``acc`` (cheaper for rows
    whose work exceeds the row count: no unpredictable branch in the inner loop).
    """
    xptr, xidx, xval = xr
    yptr, yidx, yval = yr
    n_t = 0
    for p in range(xptr[x], xptr[x + 1]):
        y = xidx[p]
        a = xval[p]
        q0, q1 = yptr[y], yptr[y + 1]
        if track:
            for q in range(q0, q1):
                if acc[yidx[q], 0] == 0.0:
                    touched[n_t] = yidx[q]
                    n_t += 1
        if measure == MSD:
            for q in range(q0, q1):
                d = a - yval[q]
                acc[yidx[q], 0] += 1.0
                acc[yidx[q], 1] += d * d
        elif measure == PEARSON:
            for q in range(q0, q1):
                b = yval[q]
                x2 = yidx[q]
                acc[x2, 0] += 1.0
                acc[x2, 1] += a * b
                acc[x2, 2] += a * a
                acc[x2, 3] += b * b
                acc[x2, 4] += a
                acc[x2, 5] += b
        else:
            for q in range(q0, q1):
                b = yval[q]
                x2 = yidx[q]
                acc[x2, 0] += 1.0
                acc[x2, 1] += a * b
                acc[x2, 2] += a * a
                acc[x2, 3] += b * b
    return n_t


@njit(parallel=True, cache=True)
def neighbor_block(lo, hi, x, y, options, n_threads):
    """Top-``keep`` positive-similarity neighbors of rows [lo, hi) of the x-major ratings
    ``x`` (a :class:`Csr`; ``y`` the same y-major) by ``options`` (:class:`TopOptions`).

    For each row an accumulator (one row of sums per x, per thread, reset after use)
    gathers co-rating sums over the y's the row shares with the others. Returns (idx, sim)
    of shape (hi-lo, keep), best first, and the count per row.

    Two rules of Numba's parallel loops shape this kernel: a Csr (its ``shape`` is a
    nested tuple) cannot enter one, so its arrays go in as a flat triple; and writes to
    arrays reached through a tuple are silently lost there (numba issue 5872), so the
    packs are only read: every array the loop writes is allocated in this kernel.
    """
    measure, min_support, shrinkage, keep = options
    xa, ya = (x.indptr, x.indices, x.data), (y.indptr, y.indices, y.data)
    xptr, xidx, yptr = x.indptr, x.indices, y.indptr
    n_x = len(xptr) - 1
    n = hi - lo
    out_idx = np.full((n, keep), -1, np.int32)
    out_sim = np.zeros((n, keep), np.float64)
    out_cnt = np.zeros(n, np.int64)
    width = 6 if measure == PEARSON else 4
    n_tasks = min(n_threads, n)
    for t in prange(n_tasks):
        acc = np.zeros((n_x, width), np.float64)
        touched = np.empty(n_x, np.int64)
        every = np.arange(n_x)
        sim = np.empty(n_x, np.float64)
        hs = np.empty(keep, np.float64)
        hi_ = np.empty(keep, np.int64)
        for r in range(t, n, n_tasks):         # strided rows: balances skewed row costs
            row = lo + r
            work = 0
            for p in range(xptr[row], xptr[row + 1]):
                work += yptr[xidx[p] + 1] - yptr[xidx[p]]
            track = work < n_x
            n_t = _accumulate(row, xa, ya, measure, acc, touched, track)
            cand = touched if track else every
            n_c = n_t if track else n_x
            _similarities(measure, acc, cand, n_c, sim, min_support, shrinkage)
            size = 0
            for c in range(n_c):
                if sim[c] > 0 and cand[c] != row and (
                        size < keep or _worse(hs[0], hi_[0], sim[c], cand[c])):
                    size = _heap_offer(hs, hi_, size, sim[c], cand[c])
            for end in range(size - 1, 0, -1):  # heap sort: worst to the back, best first
                hs[0], hs[end] = hs[end], hs[0]
                hi_[0], hi_[end] = hi_[end], hi_[0]
                _sift_down(hs, hi_, end, 0)
            out_cnt[r] = size
            for c in range(size):
                out_idx[r, c] = hi_[c]
                out_sim[r, c] = hs[c]
    return out_idx, out_sim, out_cnt


class SimilarityRows:
    """The CPU :class:`~hpcrec.kernels.protocols.SimilarityRows`: :func:`neighbor_block`
    on this process's Numba threads."""

    def __init__(self, x: Csr, y: Csr, measure: int):
        self.x, self.y, self.measure = x, y, measure

    def block_rows(self, keep: int) -> int:
        return max(1, BLOCK_ENTRIES // keep)

    def top(self, lo: int, hi: int, min_support: int, shrinkage: float, keep: int):
        options = TopOptions(self.measure, int(min_support), float(shrinkage), int(keep))
        return neighbor_block(lo, hi, self.x, self.y, options, numba.get_num_threads())


# -- prediction ---------------------------------------------------------------------------------
# Pairs are processed grouped by y: the x's that rated y are marked once in a dense array
# ``pos`` (x -> entry of y's rating, or -1), so each neighbor is checked in O(1).

@njit(cache=True)
def _mark(y, yptr, yidx, pos, on):
    for q in range(yptr[y], yptr[y + 1]):
        pos[yidx[q]] = q if on else -1


@njit(cache=True)
def _estimate(x, y, pos, lists, yval, est):
    """Prediction for one known (x, y) pair, y marked in ``pos``, from the ``k`` most
    similar x's that rated y (neighbor ``lists`` as (indptr, indices, similarities),
    ratings ``yval`` of the y-major matrix, :class:`Estimator` ``est``).

    BASELINE: b_xy + sum s*(r - b_x'y) / sum s; MEANS: mean_x + sum s*(r - mean_x') / sum s;
    BASIC: sum s*r / sum s. With fewer than ``min_k`` such neighbors: the baseline
    (BASELINE, BASIC) or the mean of x (MEANS).
    """
    nptr, nidx, nsim = lists
    k, min_k, damping, rule, mu, bx, by, xmean = est
    num = 0.0
    den = 0.0
    got = 0
    for p in range(nptr[x], nptr[x + 1]):
        if got >= k:
            break
        x2 = nidx[p]
        q = pos[x2]
        if q >= 0:
            s = nsim[p]
            if rule == BASELINE:
                dev = yval[q] - (mu + bx[x2] + by[y])
            elif rule == MEANS:
                dev = yval[q] - xmean[x2]
            else:
                dev = yval[q]
            num += s * dev
            den += s
            got += 1
    base = xmean[x] if rule == MEANS else mu + bx[x] + by[y]
    if got == 0 or got < min_k:
        return base
    if rule == BASIC:
        return (num + damping * base) / (den + damping)
    return base + num / (den + damping)


@njit(parallel=True, cache=True)
def predict_pairs(xs, ys, order, group_ptr, n_threads, nb, ratings, est):
    """Predictions for known pairs (xs[p], ys[p]) from the neighbor lists ``nb`` and the
    y-major ``ratings`` by ``est``; ``order`` sorts the pairs by y into groups
    order[group_ptr[g]:group_ptr[g+1]]."""
    lists = (nb.indptr, nb.indices, nb.data)   # a Csr cannot enter a parallel loop
    yptr, yidx, yval = ratings.indptr, ratings.indices, ratings.data
    n_x = est.bx.size
    out = np.empty(xs.size, np.float64)
    n_groups = group_ptr.size - 1
    n_tasks = min(n_threads, n_groups)
    for t in prange(n_tasks):
        pos = np.full(n_x, -1, np.int64)
        for g in range(t, n_groups, n_tasks):
            y = ys[order[group_ptr[g]]]
            _mark(y, yptr, yidx, pos, True)
            for p in order[group_ptr[g]:group_ptr[g + 1]]:
                out[p] = _estimate(xs[p], y, pos, lists, yval, est)
            _mark(y, yptr, yidx, pos, False)
    return out


@njit(parallel=True, cache=True)
def score_rows(fixed, fixed_is_x, n_other, n_threads, nb, ratings, est):
    """Predictions of every (fixed[r], j) pair, j over the other side: shape (len(fixed), n_other)."""
    lists = (nb.indptr, nb.indices, nb.data)   # a Csr cannot enter a parallel loop
    yptr, yidx, yval = ratings.indptr, ratings.indices, ratings.data
    n_x = est.bx.size
    out = np.empty((fixed.size, n_other), np.float64)
    n_outer = n_other if fixed_is_x else fixed.size     # the loop over y's, each marked once
    n_tasks = min(n_threads, n_outer)
    for t in prange(n_tasks):
        pos = np.full(n_x, -1, np.int64)
        for o in range(t, n_outer, n_tasks):
            y = o if fixed_is_x else fixed[o]
            _mark(y, yptr, yidx, pos, True)
            if fixed_is_x:
                for r in range(fixed.size):
                    out[r, o] = _estimate(fixed[r], y, pos, lists, yval, est)
            else:
                for j in range(n_other):
                    out[o, j] = _estimate(j, y, pos, lists, yval, est)
            _mark(y, yptr, yidx, pos, False)
    return out


# -- baselines --------------------------------------------------------------------------------------

@njit(cache=True)
def sgd_biases(users, items, ratings, fit, reg, lr):
    """User and item biases (:class:`BiasFit`) by SGD over the ratings in the given order
    (Surprise's update)."""
    n_users, n_items, mu, n_epochs = fit
    bu = np.zeros(n_users)
    bi = np.zeros(n_items)
    for _ in range(n_epochs):
        for p in range(ratings.size):
            u, i = users[p], items[p]
            err = ratings[p] - (mu + bu[u] + bi[i])
            bu[u] += lr * (err - reg * bu[u])
            bi[i] += lr * (err - reg * bi[i])
    return bu, bi


@njit(cache=True)
def als_biases(users, items, ratings, fit, reg_u, reg_i):
    """User and item biases (:class:`BiasFit`) by alternating closed-form sweeps (items,
    then users)."""
    n_users, n_items, mu, n_epochs = fit
    count_u = np.zeros(n_users)
    count_i = np.zeros(n_items)
    for p in range(ratings.size):
        count_u[users[p]] += 1.0
        count_i[items[p]] += 1.0
    bu = np.zeros(n_users)
    bi = np.zeros(n_items)
    for _ in range(n_epochs):
        bi[:] = 0.0
        for p in range(ratings.size):
            bi[items[p]] += ratings[p] - mu - bu[users[p]]
        for i in range(n_items):
            bi[i] = bi[i] / (reg_i + count_i[i]) if reg_i + count_i[i] > 0 else 0.0
        bu[:] = 0.0
        for p in range(ratings.size):
            bu[users[p]] += ratings[p] - mu - bi[items[p]]
        for u in range(n_users):
            bu[u] = bu[u] / (reg_u + count_u[u]) if reg_u + count_u[u] > 0 else 0.0
    return bu, bi
