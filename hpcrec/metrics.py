"""Accuracy of any :class:`~hpcrec.recommender.Recommender` on held-out ratings.

Rating error: RMSE and MAE over every held-out rating (unknown users/items are scored by
the model's cold-start rule and counted in ``n_cold``).

Ranking quality at cut-off k, per user, averaged over the users with at least one held-out
*positive* (a held-out rating >= ``threshold`` of a user and item known to the model);
the user's top-k list excludes the items the user rated in training:

* precision@k = hits / k            (k is the denominator even if fewer items could be hit)
* recall@k    = hits / #positives
* NDCG@k      = Σ_hits 1/log2(rank+1) / Σ_{rank=1..min(#positives,k)} 1/log2(rank+1)
* MAP@k       = Σ_hits precision@rank / min(#positives, k)

Under MPI every rank reads the whole test set, scores a slice of the ratings and ranks a
slice of the users; the sums are combined with ``Allreduce``.
"""
from __future__ import annotations

import numpy as np

from .comm import Comm, resolve
from .errors import InputError
from .io import load_ratings


def rmse(pred, truth) -> float:
    pred, truth = np.asarray(pred, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    return float(np.sqrt(np.mean(np.square(pred - truth)))) if len(truth) else float("nan")


def mae(pred, truth) -> float:
    pred, truth = np.asarray(pred, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    return float(np.mean(np.abs(pred - truth))) if len(truth) else float("nan")


def ranking_at_k(recommended: np.ndarray, positives: set, k: int) -> tuple[float, float, float, float]:
    """(precision, recall, NDCG, AP) at k of one user's ranked list against a positive set."""
    hits = np.array([x in positives for x in recommended[:k]], dtype=bool)
    ranks = np.flatnonzero(hits) + 1
    n_pos = len(positives)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    ndcg = discount[ranks - 1].sum() / discount[:min(n_pos, k)].sum()
    ap = (np.arange(1, len(ranks) + 1) / ranks).sum() / min(n_pos, k)
    return len(ranks) / k, len(ranks) / n_pos, float(ndcg), float(ap)


def evaluate(model, test, k: int | None = None, comm: Comm | None = None,
             threshold: float = 4.0) -> dict:
    """Metrics of a fitted model on ``test`` (any ratings source): rmse, mae, n, n_cold, and
    with ``k`` precision_at_k, recall_at_k, ndcg_at_k, map_at_k over ``n_users_ranked`` users."""
    comm = resolve(comm)
    if k is not None and (not isinstance(k, (int, np.integer)) or k <= 0):
        raise InputError(f"k must be a positive integer, got {k!r}")
    with comm.collective_errors():
        test = load_ratings(test, comm, partition=False).validate("test ratings")
        u, i = model.map_test(test)
    r = test.rating.astype(np.float64)
    lo, hi = comm.chunk(len(r))
    pred = model._predict_index(u[lo:hi], i[lo:hi]) if hi > lo else np.zeros(0)
    if not np.all(np.isfinite(pred)):
        raise InputError(f"{type(model).__name__} produced a non-finite prediction")
    err = pred - r[lo:hi]
    sums = comm.allreduce(np.array([np.square(err).sum(), np.abs(err).sum(), hi - lo,
                                    ((u[lo:hi] < 0) | (i[lo:hi] < 0)).sum()], dtype=np.float64))
    n = int(sums[2])
    out = {"rmse": float(np.sqrt(sums[0] / n)) if n else float("nan"),
           "mae": float(sums[1] / n) if n else float("nan"), "n": n, "n_cold": int(sums[3])}
    if k is not None:
        out.update(_ranking(model, test, u, i, r, k, threshold, comm))
    return out


def _ranking(model, test, u, i, r, k, threshold, comm: Comm) -> dict:
    pos = (r >= threshold) & (u >= 0) & (i >= 0)
    users = np.unique(u[pos])
    lo, hi = comm.chunk(len(users))
    mine = users[lo:hi]
    sums = np.zeros(5)
    if len(mine):
        sel = pos & np.isin(u, mine)
        order = np.argsort(u[sel], kind="stable")
        su, si = u[sel][order], i[sel][order]
        starts = np.searchsorted(su, mine)
        ends = np.searchsorted(su, mine, side="right")
        recs, _ = model.recommend(model.user_ids[mine], k=k, exclude_seen=True)
        for row, (a, b) in enumerate(zip(starts, ends)):
            positives = set(model.item_ids[si[a:b]].tolist())
            sums[:4] += ranking_at_k(recs[row], positives, k)
        sums[4] = len(mine)
    sums = comm.allreduce(sums)
    m = max(sums[4], 1)
    return {"k": k, "threshold": threshold, "n_users_ranked": int(sums[4]),
            "precision_at_k": sums[0] / m, "recall_at_k": sums[1] / m,
            "ndcg_at_k": sums[2] / m, "map_at_k": sums[3] / m}
