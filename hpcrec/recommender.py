"""The estimator contract shared by every recommender (factorization and k-NN alike).

A model learns from :class:`hpcrec.io.Ratings` and answers in raw ids (the ids of the
input files), so a test file converted on its own maps onto a model trained on another.
:class:`Recommender` is an abstract base: a model implements every hook — ``params`` and
``_check_params`` (run right after construction, for every model, and again by ``fit``),
``_fit`` (returns the model's fit statistics), ``_predict_index``, ``_score_users``,
``_similar_index`` (neighbor queries in the measures the class declares in ``measures``),
``set_checkpoint`` (a model without epochs refuses it) and ``_state``/``_set_state``. This
base turns raw ids into indices, applies the cold-start rule, excludes seen items, batches,
times ``fit`` into ``fit_stats``, and saves/loads HDF5 (never pickle). Every model class with
a ``name`` registers itself: :func:`models` is the one list of them.

Cold start (documented rule): a user or item unseen in training gets the model's
``_predict_index`` with index -1, which every model answers with the global mean plus the
known side's bias (factorization) or baseline (k-NN) — never NaN.
"""
from __future__ import annotations

import importlib
import json
from abc import ABCMeta, abstractmethod
from typing import Callable, ClassVar

import numpy as np

from .core import partition
from .core.comm import Comm
from .core.context import RunContext
from .core.errors import InputError, TrainingDiverged
from .core.timing import Timer
from .io import hdf5, jsontext, load_ratings
from .io.ratings import Ratings
from .kernels import topk

MODEL_KIND = "model"
# Largest |rating| a model trains on: far beyond any rating scale, far below where float32
# factors and squared errors overflow (documented in docs/safety.md).
RATING_LIMIT = 1e6
MODEL_PACKAGES = ("hpcrec.mf", "hpcrec.knn")  # imported to register their models


def import_models() -> None:
    """Import the packages whose classes register themselves as models (those present)."""
    for name in MODEL_PACKAGES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # a package that exists but fails to import is a bug
                raise


def models() -> dict[str, type["Recommender"]]:
    """Every registered model class by name, sorted: the one list the CLI and tests use."""
    import_models()
    return dict(sorted(Recommender._registry.items()))


class _Validated(ABCMeta):
    """Checks a model's parameters right after its ``__init__``, whatever the class."""

    def __call__(cls, *args, **kwargs):
        model = super().__call__(*args, **kwargs)
        model._check_params()
        return model


class Recommender(metaclass=_Validated):
    """Base class: fit / predict / recommend / similar_items / save / load."""

    name: ClassVar[str] = ""                      # model name stored in files, e.g. "biased-sgd"
    measures: ClassVar[tuple[str, ...]] = ()      # what similar_items(measure=...) honours
    _registry: ClassVar[dict[str, type]] = {}
    device: str = "cpu"        # where training computes: 'cpu', 'gpu' or 'auto' (a parameter of most models)
    stop_signals: tuple = ()   # signals that ask training to stop between epochs (hpcrec.core.stop)
    takes_by_user: ClassVar[bool] = False   # whether the set-up takes _set_seen's sorted ratings

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.name:
            Recommender._registry[cls.name] = cls

    def __init__(self, seed: int = 0):
        self.seed = seed
        self.user_ids = self.item_ids = None
        self.item_titles = self.item_genres = None
        self.seen_indptr = self.seen_items = None
        self._by_user: partition.Owned | None = None   # during fit: see _set_seen
        self.history: list[dict] = []
        self.fit_stats: dict = {}

    # -- hooks for subclasses -----------------------------------------------------------
    @abstractmethod
    def params(self) -> dict:
        """Hyper-parameters (JSON-serialisable); saved with the model and passed back to
        the constructor by :meth:`load`."""

    @abstractmethod
    def _check_params(self) -> None:
        """Refuse bad hyper-parameters with an :class:`InputError` (may normalise them)."""

    @abstractmethod
    def _fit(self, train: Ratings, ctx: RunContext, test: Ratings | None, callback) -> dict:
        """Learn from this rank's shard ``train`` (collective); ``test`` (whole, or None) is
        scored per epoch into ``history`` and ``callback`` gets each epoch's record where
        the model has epochs. Returns the model's own fit statistics (see :meth:`fit`)."""

    @abstractmethod
    def _predict_index(self, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        """Predictions for index pairs; -1 marks an unknown user or item (cold start)."""

    @abstractmethod
    def _score_users(self, u: np.ndarray) -> np.ndarray:
        """Scores of every item for each user index in ``u`` (shape len(u) x n_items), in a
        new array (the caller masks it in place)."""

    @abstractmethod
    def _similar_index(self, j: int, k: int, measure: str) -> tuple[np.ndarray, np.ndarray]:
        """(item indices, scores) of at most ``k`` items nearest item index ``j`` by
        ``measure`` (one of :attr:`measures`), best first, ``j`` itself excluded."""

    @property
    @abstractmethod
    def default_measure(self) -> str:
        """The measure :meth:`similar_items` uses when none is named."""

    @abstractmethod
    def set_checkpoint(self, directory, every: int = 1, resume: bool = False) -> "Recommender":
        """Checkpoint into ``directory`` every ``every`` epochs (and on SIGTERM), resuming
        from it; a model without epochs raises :class:`InputError`."""

    @abstractmethod
    def _state(self) -> dict[str, np.ndarray]:
        """The learned arrays saved under ``state/`` (besides the id maps)."""

    @abstractmethod
    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        """Take the arrays of :meth:`_state` back, checking them (:class:`InputError`)."""

    # -- fitting --------------------------------------------------------------------------
    def fit(self, ratings, comm: Comm | None = None, test=None,
            callback: Callable[[dict], None] | None = None, format: str | None = None,  # noqa: A002
            *, context: RunContext | None = None):
        """Learn from ratings (HDF5/text path, DataFrame, (users, items, ratings), Ratings).

        Under MPI every rank passes the same source and reads its own shard. ``test`` (same
        kinds) is scored per epoch into ``history`` where the model has epochs; ``callback``
        receives each epoch's record. ``format`` names the format of a ``ratings`` path.
        A caller that built a run ``context`` (a command) passes it instead of ``comm``;
        otherwise one is built here from ``comm`` and the model's device.
        A :class:`Ratings` that is already this rank's part (its ``shard``) is used as it is.
        Afterwards ``fit_stats`` holds ``ranks`` and ``seconds`` (the training itself, for
        models with epochs the epoch loop) and, for models with epochs, ``epoch_seconds`` and
        ``updates`` (rating updates).
        """
        if context is None:
            with RunContext.build(comm, self.device, stop_signals=self.stop_signals) as context:
                return self.fit(ratings, test=test, callback=callback, format=format,
                                context=context)
        self._check_params()
        comm = context.comm
        with comm.collective_errors():
            train = load_ratings(ratings, comm, format=format)
            test_r = None if test is None else load_ratings(test, comm, partition=False)
            if train.n_total == 0:
                raise InputError("no ratings to train on")
            check_rating_range(train, "training ratings")
        self.user_ids, self.item_ids = train.user_ids, train.item_ids
        self.item_titles, self.item_genres = train.item_titles, train.item_genres
        self._set_seen(train, comm)
        self.history = []
        try:
            with Timer(comm).phase("fit") as span:
                stats = self._fit(train, context, test_r, callback)
        finally:
            self._by_user = None
        self.fit_stats = {"ranks": comm.size, "seconds": span.seconds, **stats}
        return self

    def _set_seen(self, shard: Ratings, comm: Comm) -> None:
        """Every rank keeps the global user -> seen items CSR (for exclude_seen), items in
        order within a user: the ratings go to the owners of user ranges
        (:meth:`_user_bounds`), each sorts its range and the ranges are gathered: the
        exchange and the sort divide over the ranks; the CSR, 4 bytes per rating, is on
        every rank. A model that
        ``takes_by_user`` finds the sorted ratings in ``_by_user`` for its own set-up (and
        drops them there); others do not hold them while they train."""
        counts = partition.global_counts(shard.user, len(self.user_ids), comm)
        bounds = self._user_bounds(counts, len(self.item_ids), comm)
        owned = partition.by_rows(shard.user, shard.item, shard.rating, counts, bounds, comm)
        self.seen_items = comm.allgatherv(owned.cols.astype(np.int32, copy=False))
        self.seen_indptr = np.concatenate(([0], np.cumsum(owned.counts)))
        self._by_user = owned if self.takes_by_user else None

    def _user_bounds(self, counts: np.ndarray, n_items: int, comm: Comm) -> np.ndarray:
        """The user ranges of the ranks (``comm.size + 1`` bounds) for the ratings' exchange
        in :meth:`_set_seen`: balanced by ratings; a model that takes ``_by_user`` may
        balance by its own cost."""
        return partition.balanced_bounds(counts, comm.size)

    def map_test(self, test: Ratings) -> tuple[np.ndarray, np.ndarray]:
        """Model indices (or -1) of a rating set's users and items, via raw ids."""
        return (self.user_index(test.user_ids[test.user]), self.item_index(test.item_ids[test.item]))

    # -- id maps --------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if self.item_ids is None:
            raise InputError(f"{type(self).__name__} is not fitted")

    @staticmethod
    def _index(table: np.ndarray, raw) -> np.ndarray:
        raw = np.atleast_1d(np.asarray(raw))
        if table.dtype.kind in "iu":
            try:
                raw = raw.astype(np.int64)
            except (ValueError, TypeError, OverflowError):
                return np.full(len(raw), -1, dtype=np.int64)
        else:
            raw = np.array([str(x) for x in raw], dtype=object)
        order = np.argsort(table, kind="stable")
        pos = np.clip(np.searchsorted(table, raw, sorter=order), 0, len(table) - 1)
        idx = order[pos]
        return np.where(table[idx] == raw, idx, -1).astype(np.int64)

    def user_index(self, raw) -> np.ndarray:
        self._check_fitted()
        return self._index(self.user_ids, raw)

    def item_index(self, raw) -> np.ndarray:
        self._check_fitted()
        return self._index(self.item_ids, raw)

    # -- queries in raw ids ---------------------------------------------------------------
    def predict(self, users, items) -> np.ndarray:
        """Predicted ratings for raw (user, item) pairs; unknown ids follow the cold-start rule."""
        u, i = self.user_index(users), self.item_index(items)
        if len(u) != len(i):
            raise InputError("users and items must have the same length")
        return np.asarray(self._predict_index(u, i), dtype=np.float64)

    def recommend(self, users, k: int = 10, exclude_seen: bool = True, batch: int = 4096):
        """Top-``k`` items for one raw user id (1-D results) or an array of them (2-D).

        Returns (item raw ids, scores), best first. Items the user rated in training are
        excluded when ``exclude_seen``. Unknown users raise :class:`InputError`.
        """
        scalar = np.ndim(users) == 0
        u = self.user_index(users)
        if (u < 0).any():
            unknown = np.atleast_1d(users)[np.flatnonzero(u < 0)[0]].tolist()   # a Python scalar
            raise InputError(f"unknown user id {unknown!r}")
        if k <= 0:
            raise InputError("k must be positive")
        top, scores = self._top_k_index(u, k, exclude_seen, batch)
        ids = self.item_ids[top]
        return (ids[0], scores[0]) if scalar else (ids, scores)

    def _top_k_index(self, u: np.ndarray, k: int, exclude_seen: bool = True, batch: int = 4096):
        """(item indices, scores) of the top ``k`` of each user index, best first.

        Users are scored in blocks (one ``_score_users`` call each, at most ``batch`` users
        and about 2**21 scores: memory stays bounded, and a 16 MB block is reused by the
        allocator rather than faulted in afresh); seen items are masked for a whole block
        at once; the top k of each row by one pass (:mod:`hpcrec.kernels.topk`)."""
        k = min(k, len(self.item_ids))
        n_items = len(self.item_ids)
        step = max(1, min(batch, (1 << 21) // max(n_items, 1)))
        top = np.empty((len(u), k), dtype=np.int64)
        scores = np.empty((len(u), k), dtype=np.float64)
        for s in range(0, len(u), step):
            ub = u[s:s + step]
            sc = np.asarray(self._score_users(ub), dtype=np.float64)  # a new array: masked in place
            if exclude_seen:
                rows, at = _ranges(self.seen_indptr[ub], self.seen_indptr[ub + 1])
                sc[rows, self.seen_items[at]] = -np.inf
            t = top_k(sc, k)
            top[s:s + step] = t
            scores[s:s + step] = np.take_along_axis(sc, t, axis=1)
        return top, scores

    def similar_items(self, item, k: int = 10, measure: str | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` items nearest raw item id ``item``: (raw ids, scores), best first.

        ``measure`` is one of the class's :attr:`measures` (None: :attr:`default_measure`);
        the item itself is excluded.
        """
        measure = self.default_measure if measure is None else measure
        if measure not in self.measures:
            raise InputError(f"measure must be one of {', '.join(map(repr, self.measures))}, "
                             f"got {measure!r}")
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k <= 0:
            raise InputError(f"k must be a positive integer, got {k!r}")
        j = int(self.item_index([item])[0])
        if j < 0:
            raise InputError(f"unknown item id {np.asarray(item).tolist()!r}")
        idx, scores = self._similar_index(j, int(k), measure)
        return self.item_ids[idx], np.asarray(scores, dtype=np.float64)

    def find_items(self, query: str) -> np.ndarray:
        """Indices of items whose title contains ``query`` (case-insensitive), by raw id."""
        self._check_fitted()
        if self.item_titles is None:
            return np.zeros(0, dtype=np.int64)
        q = query.lower()
        return np.array([j for j, t in enumerate(self.item_titles) if q in str(t).lower()],
                        dtype=np.int64)

    # -- persistence ----------------------------------------------------------------------
    def save(self, path) -> None:
        """Write the model to HDF5 atomically (call on one rank; the CLI uses rank 0)."""
        self._check_fitted()
        state = self._state()
        if not all(_finite(v) for v in state.values()):
            raise TrainingDiverged("the model holds non-finite values (NaN or infinity); not saved")
        data = {"user_ids": hdf5.label_data(self.user_ids), "item_ids": hdf5.label_data(self.item_ids),
                "item_title": self.item_titles, "item_genres": self.item_genres,
                "seen_indptr": self.seen_indptr, "seen_items": self.seen_items}
        data.update({f"state/{k}": v for k, v in state.items()})
        hdf5.write_h5(path, MODEL_KIND, data, attrs={
            "model": self.name, "params": jsontext.dumps(self.params()),
            "history": jsontext.dumps(self.history)})

    @classmethod
    def load(cls, path) -> "Recommender":
        """Read any hpcrec model file; returns an instance of the class that saved it."""
        with hdf5.open_checked(path, MODEL_KIND) as fh:
            name = hdf5.attr_str(fh.attrs.get("model"))
            if name not in Recommender._registry:
                import_models()
            if name not in Recommender._registry:
                raise InputError(f"{path}: unknown model type {name!r}")
            model_cls = Recommender._registry[name]
            if cls is not Recommender and not issubclass(model_cls, cls):
                raise InputError(f"{path}: holds a {name} model, not a {cls.__name__}")
            try:
                params = json.loads(hdf5.attr_str(fh.attrs.get("params", "{}")))
                history = json.loads(hdf5.attr_str(fh.attrs.get("history", "[]")))
                if not isinstance(params, dict) or not isinstance(history, list) or not all(
                        isinstance(h, dict) and "epoch" in h for h in history):
                    raise TypeError
                model = model_cls(**params)
            except (json.JSONDecodeError, TypeError):
                raise InputError(f"{path}: damaged model parameters") from None
            except InputError as exc:   # a value the model refuses
                raise InputError(f"{path}: damaged model parameters ({exc})") from None
            model.history = history
            model.user_ids = hdf5.read_ids(hdf5.dataset(fh, "user_ids", "iuO"))
            model.item_ids = hdf5.read_ids(hdf5.dataset(fh, "item_ids", "iuO"))
            n_items = len(model.item_ids)
            if "item_title" in fh:
                model.item_titles = hdf5.read_labels(hdf5.dataset(fh, "item_title", "O", length=n_items))
            if "item_genres" in fh:
                model.item_genres = hdf5.read_labels(hdf5.dataset(fh, "item_genres", "O", length=n_items))
            model.seen_indptr = hdf5.dataset(fh, "seen_indptr", "iu", length=len(model.user_ids) + 1)[()]
            model.seen_items = hdf5.dataset(fh, "seen_items", "iu", length=int(model.seen_indptr[-1]))[()]
            if (model.seen_indptr[0] != 0 or np.any(np.diff(model.seen_indptr) < 0)
                    or np.any(model.seen_items >= n_items) or np.any(model.seen_items < 0)):
                raise InputError(f"{path}: damaged seen-items index (seen_indptr, seen_items)")
            state = {k: v[()] for k, v in fh["state"].items()} if "state" in fh else {}
        if not all(_finite(v) for v in state.values()):
            raise InputError(f"{path}: damaged model (non-finite values in its state)")
        try:
            model._set_state(state)
        except InputError as exc:
            raise InputError(f"{path}: {exc}") from None
        return model


def _finite(values) -> bool:
    values = np.asarray(values)
    return values.dtype.kind not in "fc" or bool(np.isfinite(values).all())


def check_rating_range(ratings: Ratings, where: str) -> None:
    """Refuse ratings beyond :data:`RATING_LIMIT` in magnitude (this rank's share)."""
    r = ratings.rating
    bad = np.abs(r) > RATING_LIMIT
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise InputError(f"{where}: rating {float(r[k]):g} at entry {ratings.offset + k + 1} is "
                         f"beyond +-{RATING_LIMIT:g}, the largest magnitude hpcrec trains on; "
                         "rescale the ratings")


def _ranges(start: np.ndarray, stop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ranges start[r]:stop[r]: (r of every element, the elements), concatenated."""
    lengths = (stop - start).astype(np.int64)
    rows = np.repeat(np.arange(len(start)), lengths)
    first = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    return rows, np.arange(int(lengths.sum())) - np.repeat(first - start, lengths)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the ``k`` largest entries of each row, best first (ties: lower index)."""
    k = min(k, scores.shape[1])
    if k <= 0:
        return np.empty((len(scores), 0), dtype=np.int64)
    return topk.top_k_rows(np.ascontiguousarray(scores), k)
