"""What every factorization model shares: the prediction rule, item-vector queries, the
epoch loop (history, callbacks, checkpoints, SIGTERM), kernel dispatch and the memory guard.

A model predicts ``offset + b_u + b_i + <p_u, q_i>`` where ``offset`` is the global mean
for models that centre ratings (biased SGD, ALS) and 0 for pure inner-product models
(the course's model, WALS), whose biases are zero. Cold start: an unknown user or item
gets the global mean plus the bias of the side that is known — never NaN.
Explicit-rating models clip predictions to the training rating range (as Surprise does).
"""
from __future__ import annotations

import logging
import time
from types import SimpleNamespace

import numpy as np

from ..comm import Comm
from ..errors import DeviceError, InputError, TrainingDiverged
from ..io.ratings import Ratings
from ..memory import check_memory
from ..metrics import sliced_rmse
from ..recommender import Recommender, top_k
from . import checkpoint

log = logging.getLogger("hpcrec")


def kernels(device: str) -> SimpleNamespace:
    """The kernel set of a device: ``sgd_epoch`` and ``als_half_step`` (the one dispatch point).

    A GPU implementation provides modules ``hpcrec.kernels.mf_sgd_cuda`` and
    ``hpcrec.kernels.mf_als_cuda`` with the same functions.
    """
    import importlib
    suffix = {"cpu": "", "gpu": "_cuda"}[device]
    try:
        sgd = importlib.import_module(f"hpcrec.kernels.mf_sgd{suffix}")
        als = importlib.import_module(f"hpcrec.kernels.mf_als{suffix}")
    except ImportError:
        raise DeviceError(f"no {device} kernels for matrix factorization in this build") from None
    return SimpleNamespace(sgd_epoch=sgd.sgd_epoch, als_half_step=als.als_half_step)


def require(condition: bool, message: str) -> None:
    if not condition:
        raise InputError(message)


class FactorModel(Recommender):
    """A recommender with user and item vectors ``P``, ``Q`` and biases ``bu``, ``bi``."""

    centred = True   # offset = global mean (False: pure inner product)
    clip = True      # clip predictions to the training rating range
    dense_systems = False  # ALS/WALS: every thread solves a (d+1) x (d+1) system per row

    def __init__(self, factors: int, epochs: int, seed: int = 0, device: str = "cpu"):
        super().__init__(seed=seed)
        self.factors, self.epochs, self.device = factors, epochs, device
        self.P = self.Q = self.bu = self.bi = None
        self.mu, self.rating_range = 0.0, (-np.inf, np.inf)
        self._checkpoint: checkpoint.Checkpointer | None = None

    def params(self) -> dict:
        return {"factors": self.factors, "epochs": self.epochs, "seed": self.seed,
                "device": self.device}

    def _check_params(self) -> None:
        require(isinstance(self.factors, (int, np.integer)) and self.factors > 0,
                f"factors must be a positive integer, got {self.factors!r}")
        require(isinstance(self.epochs, (int, np.integer)) and self.epochs >= 0,
                f"epochs must be a non-negative integer, got {self.epochs!r}")
        require(self.device in ("cpu", "gpu", "auto"), f"unknown device {self.device!r}")

    # -- prediction --------------------------------------------------------------------------
    def _predict_index(self, u, i):
        u, i = np.asarray(u, dtype=np.int64), np.asarray(i, dtype=np.int64)
        ku, ki = u >= 0, i >= 0
        uu, ii = np.where(ku, u, 0), np.where(ki, i, 0)
        both = ku & ki
        dot = np.einsum("ij,ij->i", self.P[uu], self.Q[ii], dtype=np.float64)
        pred = np.where(both, (self.mu if self.centred else 0.0) + dot, self.mu)
        pred = pred + np.where(ku, self.bu[uu], 0.0) + np.where(ki, self.bi[ii], 0.0)
        return np.clip(pred, *self.rating_range) if self.clip else pred

    def _score_users(self, u):
        u = np.asarray(u, dtype=np.int64)
        s = self.P[u].astype(np.float64) @ self.Q.T.astype(np.float64, copy=False)  # no copy of Q per block
        return s + self.bu[u, None] + self.bi[None, :] + (self.mu if self.centred else 0.0)

    # -- item vectors ------------------------------------------------------------------------
    def embedding_norms(self) -> np.ndarray:
        """Euclidean norm of every item vector (index order of ``item_ids``)."""
        self._check_fitted()
        return np.linalg.norm(self.Q.astype(np.float64), axis=1)

    def similar_items(self, item, k: int = 10, measure: str = "dot"):
        """The ``k`` items closest to raw item id ``item``: (raw ids, scores), best first.

        ``dot`` scores by inner product (favours items with long vectors, i.e. popular
        ones), ``cosine`` by the angle only. The item itself is excluded.
        """
        require(measure in ("dot", "cosine"), f"measure must be 'dot' or 'cosine', got {measure!r}")
        require(k > 0, "k must be positive")
        j = int(self.item_index(item)[0])
        require(j >= 0, f"unknown item id {item!r}")
        Q = self.Q.astype(np.float64)
        scores = Q @ Q[j]
        if measure == "cosine":
            norms = np.linalg.norm(Q, axis=1)
            scores = scores / np.maximum(norms * norms[j], 1e-12)
        scores[j] = -np.inf
        top = top_k(scores[None, :], min(k, len(scores) - 1))[0]
        return self.item_ids[top], scores[top]

    # -- persistence -------------------------------------------------------------------------
    def _state(self) -> dict[str, np.ndarray]:
        lo, hi = self.rating_range
        return {"P": self.P, "Q": self.Q, "bu": self.bu, "bi": self.bi,
                "scalars": np.array([self.mu, lo, hi], dtype=np.float64)}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        try:
            self.P, self.Q, self.bu, self.bi = (np.asarray(state[k]) for k in ("P", "Q", "bu", "bi"))
            self.mu, lo, hi = (float(x) for x in state["scalars"])
        except (KeyError, ValueError, TypeError):
            raise InputError("model state is incomplete (P, Q, bu, bi, scalars)") from None
        if not lo <= hi:
            raise InputError("model state has an empty rating range (scalars)")
        self.rating_range = (lo, hi)
        n_u = len(self.user_ids) if self.user_ids is not None else self.P.shape[0]
        n_i = len(self.item_ids) if self.item_ids is not None else self.Q.shape[0]
        if (self.P.ndim != 2 or self.Q.ndim != 2 or self.P.shape != (n_u, self.factors)
                or self.Q.shape != (n_i, self.factors) or self.bu.shape != (n_u,)
                or self.bi.shape != (n_i,)
                or any(a.dtype.kind != "f" for a in (self.P, self.Q, self.bu, self.bi))):
            raise InputError("model state arrays do not match the id tables and factors")

    # -- training ----------------------------------------------------------------------------
    def set_checkpoint(self, directory, every: int = 1, resume: bool = False):
        """Checkpoint into ``directory`` every ``every`` epochs (and on SIGTERM); resume from it."""
        self._checkpoint = checkpoint.Checkpointer(directory, every, resume)
        return self

    def _prepare(self, train: Ratings, comm: Comm) -> None:
        """Distribute the shard, allocate and initialise the factors (subclass)."""
        raise NotImplementedError

    def _epoch(self, epoch: int, comm: Comm) -> dict:
        """One epoch; returns its loss components (at least ``train_rmse``). Afterwards every
        rank holds the complete, identical model once :meth:`_complete` has run."""
        raise NotImplementedError

    def _complete(self, comm: Comm) -> None:
        """Give every rank the complete ``P``, ``Q``, ``bu``, ``bi`` (collective). Models that
        keep rows only on their owner between epochs (biased SGD) gather them here, and
        ``_fit`` calls it only when someone looks: test scoring, callback, checkpoint, end."""

    def _losses(self, epoch: int) -> dict:
        """Loss components recorded after an epoch, outside its timing (every rank has the model)."""
        return {}

    def _check_system_memory(self, comm: Comm) -> None:
        """The d x d work of ALS-type models: one system per thread, the Gram matrix and its reduction."""
        if not self.dense_systems:
            return
        import numba
        systems = numba.get_num_threads() + 3
        check_memory(8 * systems * (int(self.factors) + 1) ** 2,
                     f"{systems} dense {self.factors} x {self.factors} systems of {self.name}",
                     "use fewer --factors or more memory per rank", comm)

    def _check_finite(self, epoch: int, record: dict, comm: Comm) -> None:
        """Stop with a clear error when training diverged (non-finite loss or factors)."""
        losses = [v for k, v in record.items() if k.endswith(("rmse", "loss", "mae"))
                  and isinstance(v, float)]
        bad = not all(np.isfinite(losses))
        if not bad and self.P is not None:
            bad = not all(np.isfinite(a).all() for a in (self.P, self.Q, self.bu, self.bi)
                          if a is not None)
        if comm.allreduce_scalar(int(bad), "max"):
            raise TrainingDiverged(
                f"training diverged at epoch {epoch} (non-finite loss or factors); no model "
                "written: lower --lr, raise --reg, or scale the ratings to a smaller range")

    def _fit(self, train, comm, test, callback) -> None:
        self._check_params()
        with comm.collective_errors():
            train.validate("training ratings")
        self._check_system_memory(comm)
        self._global_stats(train, comm)
        self._prepare(train, comm)
        start = 0
        if self._checkpoint is not None:
            start = self._checkpoint.restore(self, train, comm)
        test_idx = None if test is None else (*self.map_test(test), test.rating.astype(np.float64))
        updates, epoch_seconds = 0, 0.0
        t_fit = time.perf_counter()
        log_every = max(1, self.epochs // 25)
        with checkpoint.stop_signal(enabled=self._checkpoint is not None) as stop:
            for epoch in range(start, self.epochs):
                t0, c0 = time.perf_counter(), time.process_time()
                rec = {"epoch": epoch + 1, **self._epoch(epoch, comm)}
                rec["seconds"] = time.perf_counter() - t0
                rec["cpu_seconds"] = time.process_time() - c0  # all threads of this rank
                rec.update(self._losses(epoch))
                self._check_finite(epoch + 1, rec, comm)
                updates += train.n_total
                epoch_seconds += rec["seconds"]
                if test_idx is not None or callback is not None:
                    self._complete(comm)
                if test_idx is not None:
                    rec["test_rmse"] = sliced_rmse(self._predict_index, *test_idx, comm)
                self.history.append(rec)
                if comm.is_root and ((epoch + 1) % log_every == 0 or epoch + 1 == self.epochs):
                    log.info("epoch %d/%d: %s", epoch + 1, self.epochs, ", ".join(
                        f"{k} {v:.4f}" for k, v in rec.items() if k != "epoch"))
                if callback is not None:
                    callback(rec)
                stopping = stop.requested(comm)
                done = epoch + 1 == self.epochs
                if self._checkpoint is not None and not done and (
                        stopping or self._checkpoint.due(epoch + 1)):
                    self._complete(comm)
                    self._checkpoint.save(self, epoch + 1, comm)
                if stopping and not done:
                    raise checkpoint.TrainingInterrupted(
                        f"stopped by SIGTERM after epoch {epoch + 1}; checkpoint in "
                        f"{self._checkpoint.directory} (continue with --resume)")
        self._complete(comm)
        self._check_finite(self.epochs, {}, comm)
        if self._checkpoint is not None:   # the final state, marked complete (see checkpoint.py)
            self._checkpoint.save(self, self.epochs, comm, complete=True)
        self.fit_stats = {"ranks": comm.size, "seconds": time.perf_counter() - t_fit,
                          "epoch_seconds": epoch_seconds, "updates": updates}

    def _global_stats(self, train: Ratings, comm: Comm) -> None:
        """Global mean and rating range over all ranks."""
        s = np.array([train.rating.sum(dtype=np.float64)], dtype=np.float64)
        mu = comm.allreduce(s)[0] / train.n_total
        lo = comm.allreduce(np.array([train.rating.min(initial=np.inf)], dtype=np.float64), "min")[0]
        hi = comm.allreduce(np.array([train.rating.max(initial=-np.inf)], dtype=np.float64), "max")[0]
        self.mu, self.rating_range = float(mu), (float(lo), float(hi))
