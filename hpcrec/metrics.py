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

from .core.comm import Comm, resolve
from .core.errors import InputError
from .io import load_ratings


def error_sums(pred, truth) -> np.ndarray:
    """``[Σ err², Σ |err|, n]`` of ``pred - truth`` in float64: the parts of RMSE and MAE
    that add up over ranks (one ``Allreduce``)."""
    err = np.asarray(pred, dtype=np.float64) - np.asarray(truth, dtype=np.float64)
    return np.array([np.square(err).sum(), np.abs(err).sum(), len(err)], dtype=np.float64)


def rmse_mae(sums) -> tuple[float, float]:
    """RMSE and MAE from (summed) :func:`error_sums`; NaN for no ratings."""
    n = sums[2]
    return (float(np.sqrt(sums[0] / n)), float(sums[1] / n)) if n else (float("nan"),) * 2


def sliced_rmse(predict, u, i, r, comm: Comm) -> float:
    """RMSE of ``predict(u, i)`` on ratings every rank holds whole: each rank scores its
    chunk, one ``Allreduce`` adds the sums (collective)."""
    lo, hi = comm.chunk(len(r))
    pred = predict(u[lo:hi], i[lo:hi]) if hi > lo else np.zeros(0)
    return rmse_mae(comm.allreduce(error_sums(pred, r[lo:hi])))[0]


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
    cold = ((u[lo:hi] < 0) | (i[lo:hi] < 0)).sum()
    sums = comm.allreduce(np.append(error_sums(pred, r[lo:hi]), cold))
    rmse_, mae_ = rmse_mae(sums[:3])
    out = {"rmse": rmse_, "mae": mae_, "n": int(sums[2]), "n_cold": int(sums[3])}
    if k is not None:
        out.update(_ranking(model, test, u, i, r, k, threshold, comm))
    return out


def _ranking(model, test, u, i, r, k, threshold, comm: Comm) -> dict:
    """Ranking metrics of this rank's slice of the users with held-out positives, vectorized:
    top-k lists from the model's batched scorer, hits by a sorted-key lookup."""
    pos = (r >= threshold) & (u >= 0) & (i >= 0)
    n_items = len(model.item_ids)
    keys = np.unique(u[pos].astype(np.int64) * n_items + i[pos])     # (user, item), no repeats
    users = np.unique(keys // n_items)
    lo, hi = comm.chunk(len(users))
    mine = users[lo:hi]
    sums = np.zeros(5)
    if len(mine):
        n_pos = np.diff(np.searchsorted(keys, np.append(mine, mine[-1] + 1) * n_items))
        top, _ = model._top_k_index(mine, k, exclude_seen=True)
        got = mine[:, None] * n_items + top
        at = np.minimum(np.searchsorted(keys, got), len(keys) - 1)
        hits = keys[at] == got                                        # (users, k)
        # a list shorter than k (fewer items than k) counts its slots as misses
        discount = 1.0 / np.log2(np.arange(2, k + 2))
        n_hits = hits.sum(axis=1)
        ideal = np.cumsum(discount)[np.minimum(n_pos, k) - 1]
        precision_at_rank = np.cumsum(hits, axis=1) / np.arange(1, hits.shape[1] + 1)
        sums[0] = (n_hits / k).sum()
        sums[1] = (n_hits / n_pos).sum()
        sums[2] = ((hits * discount[:hits.shape[1]]).sum(axis=1) / ideal).sum()
        sums[3] = ((precision_at_rank * hits).sum(axis=1) / np.minimum(n_pos, k)).sum()
        sums[4] = len(mine)
    sums = comm.allreduce(sums)
    m = max(sums[4], 1)
    return {"k": k, "threshold": threshold, "n_users_ranked": int(sums[4]),
            "precision_at_k": sums[0] / m, "recall_at_k": sums[1] / m,
            "ndcg_at_k": sums[2] / m, "map_at_k": sums[3] / m}
