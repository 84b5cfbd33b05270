"""What every factorization model shares: the prediction rule, item-vector queries, the
epoch loop (history, callbacks, checkpoints, SIGTERM) and the memory guard.

A model predicts ``offset + b_u + b_i + <p_u, q_i>`` where ``offset`` is the global mean
for models that centre ratings (biased SGD, ALS) and 0 for pure inner-product models
(the course's model, WALS), whose biases are zero. Cold start: an unknown user or item
gets the global mean plus the bias of the side that is known — never NaN.
Explicit-rating models clip predictions to the training rating range (as Surprise does).
"""
from __future__ import annotations

import logging
import signal
import time
from abc import abstractmethod

import numpy as np

from ..core.comm import Comm
from ..core.context import RunContext
from ..core.device import check_device
from ..core.errors import InputError, TrainingDiverged, TrainingInterrupted
from ..io.ratings import Ratings
from ..metrics import sliced_rmse
from ..progress import progress
from ..recommender import Recommender, top_k
from . import checkpoint

log = logging.getLogger("hpcrec")


def require(condition: bool, message: str) -> None:
    if not condition:
        raise InputError(message)


class FactorModel(Recommender):
    """A recommender with user and item vectors ``P``, ``Q`` and biases ``bu``, ``bi``."""

    measures = ("dot", "cosine")   # of item vectors (see similar_items)
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
        check_device(self.device)

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
        s = self.P[u].astype(np.float64) @ self.Q.T.astype(np.float64, copy=False)
        s += self.bu[u, None]  # in place: no block-sized temporaries
        s += self.bi[None, :]
        if self.centred:
            s += self.mu
        return s

    # -- item vectors ------------------------------------------------------------------------
    def embedding_norms(self) -> np.ndarray:
        """Euclidean norm of every item vector (index order of ``item_ids``)."""
        self._check_fitted()
        return np.linalg.norm(self.Q.astype(np.float64), axis=1)

    @property
    def default_measure(self) -> str:
        return "dot"

    def _similar_index(self, j: int, k: int, measure: str):
        """Nearest item vectors: ``dot`` scores by inner product (favours items with long
        vectors, i.e. popular ones), ``cosine`` by the angle only."""
        Q = self.Q.astype(np.float64)
        scores = Q @ Q[j]
        if measure == "cosine":
            norms = np.linalg.norm(Q, axis=1)
            scores = scores / np.maximum(norms * norms[j], 1e-12)
        scores[j] = -np.inf
        top = top_k(scores[None, :], min(k, len(scores) - 1))[0]
        return top, scores[top]

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
    @property
    def stop_signals(self) -> tuple:
        """SIGTERM stops training between epochs when checkpointing (else it ends the process)."""
        return (signal.SIGTERM,) if self._checkpoint is not None else ()

    def set_checkpoint(self, directory, every: int = 1, resume: bool = False):
        """Checkpoint into ``directory`` every ``every`` epochs (and on SIGTERM); resume from it."""
        self._checkpoint = checkpoint.Checkpointer(directory, every, resume)
        return self

    @abstractmethod
    def _prepare(self, train: Ratings, ctx: RunContext) -> None:
        """Distribute the shard, allocate and initialise the factors on ``ctx.device``."""

    @abstractmethod
    def _epoch(self, epoch: int, comm: Comm) -> dict:
        """One epoch; returns its loss components (at least ``train_rmse``). Afterwards every
        rank holds the complete, identical model once :meth:`_complete` has run."""

    def _complete(self, comm: Comm) -> None:
        """Give every rank the complete ``P``, ``Q``, ``bu``, ``bi`` (collective). Models that
        keep rows only on their owner between epochs (biased SGD) gather them here, and
        ``_fit`` calls it only when someone looks: test scoring, callback, checkpoint, end."""

    def _losses(self, epoch: int) -> dict:
        """Loss components recorded after an epoch, outside its timing (every rank has the model)."""
        return {}

    def _check_system_memory(self, ctx: RunContext) -> None:
        """The d x d work of ALS-type models: one system per thread, the Gram matrix and its reduction."""
        if not self.dense_systems:
            return
        import numba
        systems = numba.get_num_threads() + 3
        ctx.memory.check(8 * systems * (int(self.factors) + 1) ** 2,
                         f"{systems} dense {self.factors} x {self.factors} systems of {self.name}",
                         "use fewer --factors or more memory per rank", ctx.comm)

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

    def _fit(self, train, ctx, test, callback) -> dict:
        comm, timer = ctx.comm, ctx.timer
        with comm.collective_errors():
            train.validate("training ratings")
        self._check_system_memory(ctx)
        self._global_stats(train, comm)
        self._prepare(train, ctx)
        start = 0
        if self._checkpoint is not None:
            start = self._checkpoint.restore(self, train, comm)
        test_idx = None if test is None else (*self.map_test(test), test.rating.astype(np.float64))
        loop = timer.span("epochs")   # the epoch loop and the final gathering, without setup
        with progress(f"training {self.name}", self.epochs, "epochs", comm) as bar:
            bar.update(start)
            updates, epoch_seconds = self._epochs(train, ctx, start, test_idx, callback, bar)
        self._complete(comm)
        self._check_finite(self.epochs, {}, comm)
        if self._checkpoint is not None:   # the final state, marked complete (see checkpoint.py)
            self._checkpoint.save(self, self.epochs, comm, complete=True)
        return {"seconds": loop.stop(), "epoch_seconds": epoch_seconds, "updates": updates}

    def _epochs(self, train, ctx, start, test_idx, callback, bar) -> tuple[int, float]:
        """Epochs ``start..epochs-1`` with their records, checks, callbacks, checkpoints and
        stop requests; returns (updates, epoch seconds)."""
        comm, timer = ctx.comm, ctx.timer
        updates, epoch_seconds = 0, 0.0
        log_every = max(1, self.epochs // 25)   # a line with the losses every 4 % of the epochs
        for epoch in range(start, self.epochs):
            c0 = time.process_time()
            with timer.phase("epoch") as span:
                rec = {"epoch": epoch + 1, **self._epoch(epoch, comm)}
            rec["seconds"] = span.seconds
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
            bar.update(1)
            if (epoch + 1) % log_every == 0 or epoch + 1 == self.epochs:
                bar.note(f"epoch {epoch + 1}/{self.epochs}: " + ", ".join(
                    f"{k} {v:.4f}" for k, v in rec.items() if k != "epoch"))
            if callback is not None:
                callback(rec)
            stopping = ctx.stop.agreed()
            done = epoch + 1 == self.epochs
            if self._checkpoint is not None and not done and (
                    stopping or self._checkpoint.due(epoch + 1)):
                self._complete(comm)
                self._checkpoint.save(self, epoch + 1, comm)
            if stopping and not done:
                where = (f"checkpoint in {self._checkpoint.directory} (continue with --resume)"
                         if self._checkpoint is not None else "no checkpoint")
                raise TrainingInterrupted(f"stopped by SIGTERM after epoch {epoch + 1}; {where}")
        return updates, epoch_seconds

    def _global_stats(self, train: Ratings, comm: Comm) -> None:
        """Global mean and rating range over all ranks."""
        s = np.array([train.rating.sum(dtype=np.float64)], dtype=np.float64)
        mu = comm.allreduce(s)[0] / train.n_total
        lo = comm.allreduce(np.array([train.rating.min(initial=np.inf)], dtype=np.float64), "min")[0]
        hi = comm.allreduce(np.array([train.rating.max(initial=-np.inf)], dtype=np.float64), "max")[0]
        self.mu, self.rating_range = float(mu), (float(lo), float(hi))
