"""Item- and user-based k-NN recommenders (memory-based collaborative filtering).

Prediction of r_ui follows Surprise's k-NN family. With x the side whose neighbors are
used (item i for :class:`ItemKNN`, user u for :class:`UserKNN`) and y the other side, the
``k`` neighbors x' of x with the highest positive similarity s among those that rated y give

- ``prediction="baseline"`` (KNNBaseline): b_ui + sum s*(r_x'y - b_x'y) / (sum s + d);
- ``prediction="means"`` (KNNWithMeans): mean_x + sum s*(r_x'y - mean_x') / (sum s + d);
- ``prediction="basic"`` (KNNBasic): (sum s*r_x'y + d*b_ui) / (sum s + d),

with b_ui = mu + b_u + b_i the baseline (:mod:`.baselines`) and d the ``damping``: a
pseudo-neighbor of weight d that predicts the baseline, so a few weak neighbors move
the prediction little (d = 0 is Surprise's rule). Fallback (documented rule): with fewer
than ``min_k`` such neighbors the prediction is b_ui ("baseline", "basic") or mean_x
("means"); a user or item unknown or without training ratings gets the baseline of the
known side (mu + b_u, mu + b_i or mu) in every mode. Surprise agrees except that
KNNWithMeans and KNNBasic return the global mean where they cannot predict. Predictions
are clipped to the training rating range (Surprise: to the rating scale); ``recommend``
ranks unclipped scores.

Only the ``max_neighbors`` (K >= k) most similar neighbors are stored per row: memory
O(nnz + n*K). ``max_neighbors=None, damping=0, baseline_options={"method": "als"}``
reproduces Surprise exactly; the defaults (K = 200, d = 0.25, lighter ALS regularisation)
are more accurate on ml-100k. Under MPI every rank gathers the ratings, computes the
neighbor lists of its block of rows and receives the others', so every rank holds the
whole model and answers any query.
"""
from __future__ import annotations

from typing import ClassVar

import numba
import numpy as np

from ..core.context import RunContext
from ..core.device import check_device
from ..core.errors import InputError
from ..io.ratings import Ratings
from ..kernels import knn as kernels
from ..kernels.csr import Csr, csr
from ..recommender import Recommender
from . import baselines
from . import similarity as sims

RULES = {"baseline": kernels.BASELINE, "means": kernels.MEANS, "basic": kernels.BASIC}
# Lighter regularisation than Surprise's ALS defaults (10 epochs, reg_u 15, reg_i 10):
# chosen with damping on validation splits of ml-100k's u1..u5.base, never on the test files.
BASELINE_DEFAULTS = {"method": "als", "n_epochs": 20, "reg_u": 5.0, "reg_i": 3.0}
STATE_KEYS = ("neighbor_ptr", "neighbor_idx", "neighbor_sim", "rating_ptr", "rating_idx",
              "rating_val", "user_bias", "item_bias", "global_mean", "rating_range")


class KNN(Recommender):
    """Neighborhood model; use :class:`ItemKNN` or :class:`UserKNN`.

    k: neighbors per prediction; min_k: fewer than this -> fallback; similarity: 'cosine',
    'msd', 'pearson', 'pearson-baseline'; shrinkage: of pearson-baseline; min_support:
    least co-ratings for a similarity; max_neighbors: neighbors stored per row (>= k, None
    = all); prediction: 'baseline', 'means', 'basic'; damping: weight of the baseline
    pseudo-neighbor; baseline_options: as Surprise's bsl_options ({'method': 'als'|'sgd',
    'n_epochs', 'reg_u', 'reg_i', 'reg', 'learning_rate'}; missing keys take Surprise's
    defaults; None: :data:`BASELINE_DEFAULTS`); clip: clip predictions to the training
    rating range; device: 'cpu', 'gpu' or 'auto', where the similarities are computed
    (prediction runs on the CPU).
    """

    user_based: ClassVar[bool] = False
    measures = tuple(sims.MEASURES)   # item-item similarities (see similar_items)

    def __init__(self, k: int = 40, min_k: int = 1, similarity: str = "pearson-baseline",
                 shrinkage: float = 100.0, min_support: int = 1, max_neighbors: int | None = 200,
                 prediction: str = "baseline", damping: float = 0.25,
                 baseline_options: dict | None = None, clip: bool = True, seed: int = 0,
                 device: str = "cpu"):
        super().__init__(seed)
        self.k, self.min_k, self.similarity, self.shrinkage = k, min_k, similarity, shrinkage
        self.min_support, self.max_neighbors, self.prediction = min_support, max_neighbors, prediction
        self.damping, self.clip, self.device = damping, clip, device
        self.baseline_options = BASELINE_DEFAULTS if baseline_options is None else baseline_options
        self.neighbors: Csr | None = None

    def _check_params(self) -> None:
        """Checks the parameters and brings them to their canonical types and names."""
        self.k = _count("k", self.k, 1)
        self.min_k = _count("min_k", self.min_k, 0)
        self.similarity = sims.measure_name(self.similarity)
        self.shrinkage = _number("shrinkage", self.shrinkage)
        self.min_support = _count("min_support", self.min_support, 0)
        if self.max_neighbors is not None:
            self.max_neighbors = _count("max_neighbors", self.max_neighbors, 1)
            if self.max_neighbors < self.k:
                raise InputError(f"max_neighbors ({self.max_neighbors}) must be at least k ({self.k})")
        if self.prediction not in RULES:
            raise InputError(f"unknown prediction rule {self.prediction!r} (choose from {', '.join(RULES)})")
        self.damping = _number("damping", self.damping)
        self.baseline_options = baselines.check_options(self.baseline_options)
        self.clip = bool(self.clip)
        self.device = check_device(self.device)

    def params(self) -> dict:
        return {"k": self.k, "min_k": self.min_k, "similarity": self.similarity,
                "shrinkage": self.shrinkage, "min_support": self.min_support,
                "max_neighbors": self.max_neighbors, "prediction": self.prediction,
                "damping": self.damping,
                "baseline_options": self.baseline_options, "clip": self.clip, "seed": self.seed,
                "device": self.device}

    # -- fitting ----------------------------------------------------------------------------
    def set_checkpoint(self, directory, every: int = 1, resume: bool = False):
        """k-NN trains in one pass, without epochs: there is nothing to checkpoint."""
        raise InputError(f"model {self.name} does not support checkpoints")

    def _fit(self, train: Ratings, ctx: RunContext, test, callback) -> dict:
        """Baselines and neighbor lists; k-NN has no epochs, so test/callback are unused."""
        comm, device = ctx.comm, ctx.device
        n_x = len(self.user_ids) if self.user_based else len(self.item_ids)
        kept = n_x * (self.max_neighbors or n_x)
        ctx.memory.check(80 * train.n_total + 12 * kept,   # every rating (ids, values, CSR twice)
                         f"{self.name}: all ratings and {kept} neighbor entries on every rank",
                         "lower --max-neighbors, or use a node with more memory", comm)
        users, items = comm.allgatherv(train.user), comm.allgatherv(train.item)
        ratings = comm.allgatherv(train.rating)
        n_users, n_items = len(self.user_ids), len(self.item_ids)
        with comm.collective_errors():
            _check_unique(users, items, n_items)
            mu, bu, bi = baselines.fit(users, items, ratings, n_users, n_items, self.baseline_options)
            xs, ys, n_x, n_y = (users, items, n_users, n_items) if self.user_based else \
                (items, users, n_items, n_users)
            r = ratings.astype(np.float64)
            values = r
            if self.similarity == "pearson-baseline":
                values = r - mu - bu[users] - bi[items]
            x_major = sims.from_coo(xs, ys, values, n_x, n_y)
            y_ptr, order = sims.csr_order(ys, xs, n_y, n_x)
            y_idx = xs[order].astype(np.int32)
            y_major = csr(y_ptr, y_idx, values[order], n_x)
        self.neighbors = sims.neighbor_lists(
            x_major, y_major, self.similarity, self.min_support, self.shrinkage,
            self.max_neighbors, comm, device)
        self.ratings_by_y = csr(y_ptr, y_idx, r[order], n_x)
        self.mu, self.bu, self.bi = mu, bu, bi
        self.rating_range = (float(r.min()), float(r.max()))
        self._prepare()
        return {}

    def _prepare(self) -> None:
        """Quantities derived from the state: counts, means of x, biases by role."""
        y = self.ratings_by_y
        n_x = len(self.user_ids) if self.user_based else len(self.item_ids)
        count_x = np.bincount(y.indices, minlength=n_x)
        count_y = np.diff(y.indptr)
        sums = np.bincount(y.indices, weights=y.data, minlength=n_x)
        self.x_mean = np.where(count_x > 0, sums / np.maximum(count_x, 1), self.mu)
        self.count_u, self.count_i = (count_x, count_y) if self.user_based else (count_y, count_x)
        self.bx, self.by = (self.bu, self.bi) if self.user_based else (self.bi, self.bu)

    # -- prediction -------------------------------------------------------------------------
    def _kernel_args(self):
        """(threads, neighbor lists, y-major ratings, estimator) of the prediction kernels."""
        est = kernels.Estimator(self.k, self.min_k, self.damping, RULES[self.prediction],
                                self.mu, self.bx, self.by, self.x_mean)
        return numba.get_num_threads(), self.neighbors, self.ratings_by_y, est

    def _predict_index(self, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        u = np.asarray(u, dtype=np.int64)
        i = np.asarray(i, dtype=np.int64)
        known_u = (u >= 0) & (self.count_u[np.maximum(u, 0)] > 0)
        known_i = (i >= 0) & (self.count_i[np.maximum(i, 0)] > 0)
        est = self.mu + np.where(known_u, self.bu[np.maximum(u, 0)], 0.0) \
            + np.where(known_i, self.bi[np.maximum(i, 0)], 0.0)
        both = known_u & known_i
        if both.any():   # grouped by y: each y's ratings are looked up once per group
            xs, ys = (u[both], i[both]) if self.user_based else (i[both], u[both])
            order = np.argsort(ys, kind="stable")
            group_ptr = np.flatnonzero(np.diff(ys[order], prepend=-1, append=-1))
            est[both] = kernels.predict_pairs(xs, ys, order, group_ptr, *self._kernel_args())
        return np.clip(est, *self.rating_range) if self.clip else est

    def _score_users(self, u: np.ndarray) -> np.ndarray:
        return kernels.score_rows(np.asarray(u, dtype=np.int64), self.user_based,
                                  len(self.item_ids), *self._kernel_args())

    @property
    def default_measure(self) -> str:
        return self.similarity

    def _similar_index(self, j: int, k: int, measure: str):
        """An item-based model answers its own measure from its stored lists (at most
        ``max_neighbors``); any other measure, and every measure of a user-based model, is
        computed for the item's row on demand (the same ``min_support`` and ``shrinkage``)."""
        if measure == self.similarity and not self.user_based:
            idx, sim = self.neighbors.row(j)
        else:
            idx, sim = self._item_row(j, k, measure)
        return idx[:k], sim[:k]

    def _item_row(self, item: int, keep: int, measure: str) -> tuple[np.ndarray, np.ndarray]:
        """One item's neighbors by ``measure``, from the ratings the model keeps."""
        by_y = self.ratings_by_y
        ys = np.repeat(np.arange(by_y.n_rows, dtype=np.int32), np.diff(by_y.indptr))
        users, items = (by_y.indices, ys) if self.user_based else (ys, by_y.indices)
        values = by_y.data
        if measure == "pearson-baseline":
            values = values - self.mu - self.bu[users] - self.bi[items]
        n_users, n_items = len(self.user_ids), len(self.item_ids)
        x_major = sims.from_coo(items, users, values, n_items, n_users)
        y_major = sims.from_coo(users, items, values, n_users, n_items)
        _, idx, sim = sims.neighbor_rows(x_major, y_major, item, item + 1, measure,
                                          self.min_support, self.shrinkage, keep)
        return idx, sim

    # -- persistence ------------------------------------------------------------------------
    def _state(self) -> dict[str, np.ndarray]:
        n, y = self.neighbors, self.ratings_by_y
        return {"neighbor_ptr": n.indptr, "neighbor_idx": n.indices, "neighbor_sim": n.data,
                "rating_ptr": y.indptr, "rating_idx": y.indices, "rating_val": y.data.astype(np.float32),
                "user_bias": self.bu, "item_bias": self.bi,
                "global_mean": np.array([self.mu]), "rating_range": np.array(self.rating_range)}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        missing = [k for k in STATE_KEYS if k not in state]
        if missing:
            raise InputError(f"damaged {self.name} model: missing state/{missing[0]}")
        n_u, n_i = len(self.user_ids), len(self.item_ids)
        n_x, n_y = (n_u, n_i) if self.user_based else (n_i, n_u)
        self.neighbors = _checked_csr(state, "neighbor", n_x, n_x)
        self.ratings_by_y = _checked_csr(state, "rating", n_y, n_x)
        self.bu = _checked(state, "user_bias", n_u)
        self.bi = _checked(state, "item_bias", n_i)
        self.mu = float(_checked(state, "global_mean", 1)[0])
        lo, hi = _checked(state, "rating_range", 2)
        self.rating_range = (float(lo), float(hi))
        self._prepare()


class ItemKNN(KNN):
    """Item-based k-NN: a rating is predicted from the user's ratings of similar items."""
    name = "item-knn"
    user_based = False


class UserKNN(KNN):
    """User-based k-NN: a rating is predicted from similar users' ratings of the item."""
    name = "user-knn"
    user_based = True


# -- validation helpers ---------------------------------------------------------------------------

def _count(name: str, value, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        raise InputError(f"{name} must be an integer >= {least}, got {value!r}")
    return int(value)


def _number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
            or not np.isfinite(value) or value < 0:
        raise InputError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def _check_unique(users: np.ndarray, items: np.ndarray, n_items: int) -> None:
    key = np.sort(users.astype(np.int64) * n_items + items)
    dup = np.flatnonzero(key[1:] == key[:-1])
    if len(dup):
        u, i = divmod(int(key[dup[0]]), n_items)
        raise InputError(f"user index {u} rated item index {i} more than once: "
                         "k-NN needs one rating per (user, item)")


def _checked(state: dict, key: str, length: int) -> np.ndarray:
    arr = np.asarray(state[key])
    if arr.ndim != 1 or len(arr) != length or arr.dtype.kind not in "iuf" \
            or (arr.dtype.kind == "f" and not np.isfinite(arr).all()):
        raise InputError(f"damaged model: state/{key} has the wrong shape or values")
    return arr


def _checked_csr(state: dict, prefix: str, n_rows: int, n_cols: int) -> Csr:
    ptr = _checked(state, f"{prefix}_ptr", n_rows + 1).astype(np.int64)
    nnz = int(ptr[-1]) if len(ptr) else 0
    idx = _checked(state, f"{prefix}_idx", nnz).astype(np.int32)
    val = _checked(state, f"{prefix}_{'sim' if prefix == 'neighbor' else 'val'}", nnz).astype(np.float64)
    if ptr[0] != 0 or (np.diff(ptr) < 0).any() or (nnz and (idx.min() < 0 or idx.max() >= n_cols)):
        raise InputError(f"damaged model: state/{prefix}_* is not a valid sparse matrix")
    return csr(ptr, idx, val, n_cols)
