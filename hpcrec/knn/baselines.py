"""Baseline estimates b_ui = mu + b_u + b_i (global mean plus user and item biases).

Fitted as Surprise's ``bsl_options`` describe (same names, same defaults):

- ``als`` (default): ``n_epochs`` (10) alternating closed-form sweeps, items then users,
  b_i = sum(r - mu - b_u) / (reg_i + |U_i|), b_u = sum(r - mu - b_i) / (reg_u + |I_u|),
  with ``reg_i`` (10) and ``reg_u`` (15);
- ``sgd``: ``n_epochs`` (20) passes of stochastic gradient descent with ``reg`` (0.02) and
  ``learning_rate`` (0.005), visiting users in order of first appearance and each user's
  ratings in input order (Surprise's order, so the results agree).
"""
from __future__ import annotations

import numpy as np

from ..core.errors import InputError
from ..kernels import knn as kernels

DEFAULTS = {
    "als": {"n_epochs": 10, "reg_u": 15.0, "reg_i": 10.0},
    "sgd": {"n_epochs": 20, "reg": 0.02, "learning_rate": 0.005},
}


def check_options(options: dict | None) -> dict:
    """Complete and validate baseline options; returns a new dict with every value set."""
    options = dict(options or {})
    method = options.pop("method", "als")
    if method not in DEFAULTS:
        raise InputError(f"unknown baseline method {method!r} (choose from {', '.join(DEFAULTS)})")
    unknown = set(options) - set(DEFAULTS[method])
    if unknown:
        raise InputError(f"unknown option(s) {', '.join(sorted(unknown))} for {method} baselines "
                         f"(allowed: {', '.join(DEFAULTS[method])})")
    out = {"method": method, **DEFAULTS[method], **options}
    if not isinstance(out["n_epochs"], (int, np.integer)) or out["n_epochs"] < 0:
        raise InputError("baseline n_epochs must be a non-negative integer")
    for key in set(DEFAULTS[method]) - {"n_epochs"}:
        value = out[key]
        if not isinstance(value, (int, float, np.number)) or not np.isfinite(value) or value < 0:
            raise InputError(f"baseline {key} must be a finite non-negative number, got {value!r}")
        out[key] = float(value)
    out["n_epochs"] = int(out["n_epochs"])
    return out


def fit(users: np.ndarray, items: np.ndarray, ratings: np.ndarray, n_users: int, n_items: int,
        options: dict) -> tuple[float, np.ndarray, np.ndarray]:
    """(mu, b_u, b_i) from COO ratings in input order; ``options`` from :func:`check_options`."""
    r = ratings.astype(np.float64)
    mu = float(r.mean())
    problem = kernels.BiasFit(n_users, n_items, mu, options["n_epochs"])
    if options["method"] == "sgd":
        first = np.full(n_users, len(users), dtype=np.int64)
        np.minimum.at(first, users, np.arange(len(users)))
        order = np.argsort(first[users], kind="stable")
        bu, bi = kernels.sgd_biases(users[order], items[order], r[order], problem, options["reg"],
                                    options["learning_rate"])
        return mu, bu, bi
    bu, bi = kernels.als_biases(users, items, r, problem, options["reg_u"], options["reg_i"])
    return mu, bu, bi
