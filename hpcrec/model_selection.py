"""Cross-validation (on the folds of :func:`hpcrec.io.splits.fold_pairs`: MovieLens'
predefined u1..u5, or seeded k-fold) and a small grid / random hyper-parameter search that
spreads configurations over the MPI ranks.

Works for any :class:`~hpcrec.recommender.Recommender`: a model is described by a factory
(a class or a zero-argument callable returning an unfitted model).
"""
from __future__ import annotations

import itertools
import logging

import numpy as np

from .core.comm import Comm, resolve, serial
from .core.errors import InputError
from .io.splits import fold_pairs
from .metrics import evaluate

log = logging.getLogger("hpcrec")


def cross_validate(model_factory, ratings, folds="movielens", k: int | None = None,
                   seed: int = 0, comm: Comm | None = None, threshold: float = 4.0) -> dict:
    """Fit a fresh model on every fold (with all ranks) and evaluate it on the held-out part.

    Returns {"folds": [{"fold", metrics...}, ...], "mean": {metric: mean over folds}}.
    """
    comm = resolve(comm)
    rows = []
    for name, train, test in fold_pairs(ratings, folds, seed, comm):
        model = model_factory()
        model.fit(train, comm)
        rows.append({"fold": name, **evaluate(model, test, k, comm, threshold)})
        if comm.is_root:
            log.info("%s: %s", name, ", ".join(f"{m} {v:.4f}" for m, v in rows[-1].items()
                                               if isinstance(v, float)))
    keys = [m for m, v in rows[0].items() if isinstance(v, float)]
    return {"folds": rows, "mean": {m: float(np.mean([r[m] for r in rows])) for m in keys}}


def configurations(space: dict, n_iter: int | None = None, seed: int = 0) -> list[dict]:
    """The grid of ``space`` (name -> list of values), or ``n_iter`` random points of it."""
    if not space:
        return [{}]
    names = sorted(space)
    for name in names:
        if not isinstance(space[name], (list, tuple)) or not space[name]:
            raise InputError(f"search space entry {name!r} must be a non-empty list")
    grid = [dict(zip(names, values)) for values in itertools.product(*(space[n] for n in names))]
    if n_iter is not None and n_iter < len(grid):
        pick = np.random.default_rng(seed).choice(len(grid), n_iter, replace=False)
        grid = [grid[j] for j in sorted(pick)]
    return grid


def search(model_cls, space: dict, ratings, folds="movielens", n_iter: int | None = None,
           metric: str = "rmse", k: int | None = None, seed: int = 0,
           comm: Comm | None = None, **fixed) -> list[dict]:
    """Cross-validate every configuration; rank r takes configurations r, r + p, ...

    Each configuration runs serially on its rank (no communication until the end), so p
    ranks try p configurations at a time. Returns [{"params", "mean", "folds"}] on every
    rank, best (lowest ``metric``; highest for the @k metrics) first.
    """
    comm = resolve(comm)
    configs = configurations(space, n_iter, seed)
    mine = []
    with comm.collective_errors():
        for j in range(comm.rank, len(configs), comm.size):
            params = {**fixed, **configs[j]}
            res = cross_validate(lambda: model_cls(**params), ratings, folds, k, seed, serial())
            mine.append({"params": params, **res})
    results = [r for part in comm.allgather_obj(mine) for r in part]
    if results and metric not in results[0]["mean"]:
        raise InputError(f"unknown metric {metric!r}: choose one of {', '.join(results[0]['mean'])}")
    sign = -1.0 if metric.endswith("_at_k") else 1.0
    return sorted(results, key=lambda r: sign * r["mean"][metric])
