"""Checkpoint/restart for iterative training, and a clean stop on SIGTERM.

A checkpoint is one HDF5 file (``DIR/checkpoint.h5``, kind ``checkpoint``) written by rank 0
atomically: the model state (every rank holds the complete factors between epochs), the
history, the number of finished epochs, whether training finished, and the run's identity.
Nothing else is needed to resume bit-identically: every random decision of epoch ``e`` is
drawn from a generator seeded with ``(seed, e)``, and the learning-rate schedule is a
function of ``e``. SIGTERM (what SLURM sends before the time limit) requests a stop (the
run's :mod:`hpcrec.core.stop` request) that the ranks agree on at the end of the epoch;
they then write a final checkpoint and stop with :class:`TrainingInterrupted`.

The identity (:func:`identity`) holds everything that decides the model: a content digest
of the training ratings, the model, every hyper-parameter but ``epochs``, the seed (a
parameter) and the rank count (the data partition changes the floating-point sums). The
thread count is not in it: results do not depend on it (see :mod:`hpcrec.mf.sgd`). ``epochs``
is not either, because the schedule depends only on the epoch index: a longer run
continues a shorter one bit-identically. ``--resume`` on a checkpoint of another run is an
error naming what differs, never a silent start from someone else's model. A run that
finishes writes its final state marked ``complete``: resuming it gives the finished model
(or continues it to more epochs), never an unfinished run's.
"""
from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np

from ..core.comm import Comm
from ..core.errors import InputError
from ..io import hdf5

KIND = "checkpoint"
FILE = "checkpoint.h5"
FORMAT = 2        # 1: before the run identity (no data digest, no completion mark)
log = logging.getLogger("hpcrec")


def _ids_digest(ids: np.ndarray) -> str:
    ids = np.asarray(ids)
    if ids.dtype.kind == "O":   # strings: unambiguous with a separator they cannot contain
        return hashlib.blake2b("\0".join(map(str, ids)).encode(), digest_size=16).hexdigest()
    h = hashlib.blake2b(ids.dtype.str.encode(), digest_size=16)
    h.update(np.ascontiguousarray(ids).data)
    return h.hexdigest()


def data_digest(train, comm: Comm) -> str:
    """Content digest of the training ratings (all ranks; collective).

    Each rank hashes its shard (users, items, ratings); rank 0 hashes those digests in rank
    order together with the id tables. Cheap (one pass over the shard) and computed from the
    data in memory, so it works for every input kind. The digest depends on the partition,
    which the rank count in the identity fixes anyway.
    """
    h = hashlib.blake2b(digest_size=16)
    for arr in (train.user, train.item, train.rating):
        h.update(np.ascontiguousarray(arr).data)
    parts = comm.gather_obj((int(train.offset), int(train.nnz), h.hexdigest()))
    digest = None
    if comm.is_root:
        total = hashlib.blake2b(json.dumps(parts).encode(), digest_size=16)
        total.update(_ids_digest(train.user_ids).encode())
        total.update(_ids_digest(train.item_ids).encode())
        digest = total.hexdigest()
    return comm.bcast_obj(digest)


def identity(model, train, comm: Comm) -> dict:
    """What decides the trained model (see the module docstring); JSON-serialisable."""
    return {"format": FORMAT, "model": model.name,
            "params": {k: v for k, v in model.params().items() if k != "epochs"},
            "data": data_digest(train, comm), "n_ratings": int(train.n_total),
            "n_users": len(model.user_ids), "n_items": len(model.item_ids), "ranks": comm.size}


def differences(saved: dict, mine: dict) -> list[str]:
    """Human-readable list of what differs between two identities (empty: the same run)."""
    out = [f"{key} {saved.get(key)} (checkpoint) vs {mine[key]} (this run)"
           for key in ("model", "ranks", "n_ratings", "n_users", "n_items") if saved.get(key) != mine[key]]
    if not out and saved.get("data") != mine["data"]:   # (the digest depends on sizes and ranks)
        out.append("training data (same sizes, other content)")
    theirs = saved.get("params") if isinstance(saved.get("params"), dict) else {}
    for key in sorted(set(theirs) | set(mine["params"])):
        if theirs.get(key) != mine["params"].get(key):
            out.append(f"{key} {theirs.get(key)!r} (checkpoint) vs {mine['params'].get(key)!r} (this run)")
    return out


class Checkpointer:
    def __init__(self, directory, every: int = 1, resume: bool = False):
        if not isinstance(every, (int, np.integer)) or every < 1:
            raise InputError(f"checkpoint interval must be a positive number of epochs, got {every!r}")
        self.directory, self.every, self.resume = Path(directory), int(every), resume
        self._identity: dict | None = None

    @property
    def path(self) -> Path:
        return self.directory / FILE

    def due(self, epochs_done: int) -> bool:
        return epochs_done % self.every == 0

    def save(self, model, epochs_done: int, comm: Comm, complete: bool = False) -> None:
        """Write the model after ``epochs_done`` epochs (rank 0; collective error handling)."""
        with comm.collective_errors():
            if comm.is_root:
                self.directory.mkdir(parents=True, exist_ok=True)
                hdf5.write_h5(self.path, KIND, {f"state/{k}": v for k, v in model._state().items()},
                              attrs={"epoch": epochs_done, "complete": bool(complete),
                                     "history": json.dumps(model.history),
                                     "identity": json.dumps(self._identity)})
        if comm.is_root:
            log.info("%s checkpoint after epoch %d written to %s",
                     "final" if complete else "a", epochs_done, self.path)

    def restore(self, model, train, comm: Comm) -> int:
        """Fix this run's identity; load a matching checkpoint into ``model`` if resuming.

        Returns the epochs already done. A checkpoint of another run, of a newer/older
        format, with more epochs than asked for or with damaged fields is an InputError.
        """
        self._identity = identity(model, train, comm)
        if not self.resume:
            return 0
        with comm.collective_errors():
            found = self.path.exists()
            if found:
                epoch, complete, history, state = self._load(model)
                model._set_state(state)
                model.history = history
        if comm.is_root:
            if not found:
                log.info("no checkpoint in %s: starting from epoch 0", self.directory)
            elif complete and epoch == model.epochs:
                log.info("%s holds this run, finished: nothing left to train", self.path)
            else:
                log.info("resuming from %s after epoch %d", self.path, epoch)
        return epoch if found else 0

    def _load(self, model):
        with hdf5.open_checked(self.path, KIND) as fh:
            try:
                saved = json.loads(hdf5.attr_str(fh.attrs["identity"]))
                epoch, complete = fh.attrs["epoch"], fh.attrs["complete"]
                history = json.loads(hdf5.attr_str(fh.attrs["history"]))
            except KeyError:
                raise InputError(f"{self.path}: not a checkpoint of this hpcrec version (format "
                                 f"{FORMAT} needed): remove it to start afresh") from None
            except ValueError:
                raise InputError(f"{self.path}: damaged checkpoint metadata") from None
            state = {k: v[()] for k, v in fh["state"].items()} if "state" in fh else {}
        found = saved.get("format") if isinstance(saved, dict) else "?"
        if found != FORMAT:
            raise InputError(f"{self.path}: checkpoint format {found}, this hpcrec reads {FORMAT}: "
                             "remove it to start afresh")
        diff = differences(saved, self._identity)
        if diff:
            raise InputError(f"{self.path}: checkpoint of another run ({'; '.join(diff)}); "
                             "use another --checkpoint folder or remove it")
        if not (isinstance(epoch, (int, np.integer)) and 0 <= epoch
                and isinstance(complete, (bool, np.bool_)) and isinstance(history, list)
                and len(history) == epoch):
            raise InputError(f"{self.path}: damaged checkpoint (epoch {epoch!r}, "
                             f"{len(history) if isinstance(history, list) else '?'} history entries)")
        if epoch > model.epochs:
            raise InputError(f"{self.path}: checkpoint holds {int(epoch)} epochs, this run asks for "
                             f"{model.epochs}: ask for at least {int(epoch)} or start afresh")
        return int(epoch), bool(complete), history, state
