"""Checkpoint/restart for iterative training, and a clean stop on SIGTERM.

A checkpoint is one HDF5 file (``DIR/checkpoint.h5``, kind ``checkpoint``) written by rank 0
atomically: the model state (every rank holds the complete factors between epochs), the
history, the number of finished epochs, the parameters and a fingerprint of the data.
Nothing else is needed to resume bit-identically: every random decision of epoch ``e`` is
drawn from a generator seeded with ``(seed, e)``, and the learning-rate schedule is a
function of ``e``. SIGTERM (what SLURM sends before the time limit) sets a flag that the
ranks agree on at the end of the epoch; they then write a final checkpoint and stop with
:class:`TrainingInterrupted`.
"""
from __future__ import annotations

import contextlib
import json
import logging
import signal
import threading
from pathlib import Path

import numpy as np

from ..comm import Comm
from ..errors import HpcrecError, InputError
from ..io import hdf5

KIND = "checkpoint"
FILE = "checkpoint.h5"
log = logging.getLogger("hpcrec")


class TrainingInterrupted(HpcrecError):
    """Training stopped early on request (SIGTERM); a checkpoint holds the progress."""


class Checkpointer:
    def __init__(self, directory, every: int = 1, resume: bool = False):
        if not isinstance(every, (int, np.integer)) or every < 1:
            raise InputError(f"checkpoint interval must be a positive number of epochs, got {every!r}")
        self.directory, self.every, self.resume = Path(directory), int(every), resume

    @property
    def path(self) -> Path:
        return self.directory / FILE

    def due(self, epochs_done: int) -> bool:
        return epochs_done % self.every == 0

    @staticmethod
    def _fingerprint(model, train, comm: Comm) -> dict:
        return {"model": model.name, "n_ratings": int(train.n_total), "n_users": len(model.user_ids),
                "n_items": len(model.item_ids), "ranks": comm.size}

    def save(self, model, train, epochs_done: int, comm: Comm) -> None:
        with comm.collective_errors():
            if comm.is_root:
                self.directory.mkdir(parents=True, exist_ok=True)
                params = {k: v for k, v in model.params().items() if k != "epochs"}
                hdf5.write_h5(self.path, KIND, {f"state/{k}": v for k, v in model._state().items()},
                              attrs={"epoch": epochs_done, "params": json.dumps(params),
                                     "history": json.dumps(model.history),
                                     "fingerprint": json.dumps(self._fingerprint(model, train, comm))})
        if comm.is_root:
            log.info("checkpoint after epoch %d written to %s", epochs_done, self.path)

    def restore(self, model, train, comm: Comm) -> int:
        """Load the checkpoint into ``model`` if resuming and one exists; returns epochs done."""
        if not self.resume:
            return 0
        with comm.collective_errors():
            found = self.path.exists()
            if found:
                with hdf5.open_checked(self.path, KIND) as fh:
                    try:
                        epoch = int(fh.attrs["epoch"])
                        params = json.loads(hdf5.attr_str(fh.attrs["params"]))
                        history = json.loads(hdf5.attr_str(fh.attrs["history"]))
                        stamp = json.loads(hdf5.attr_str(fh.attrs["fingerprint"]))
                    except (KeyError, ValueError):
                        raise InputError(f"{self.path}: damaged checkpoint metadata") from None
                    state = {k: v[()] for k, v in fh["state"].items()} if "state" in fh else {}
                mine = self._fingerprint(model, train, comm)
                wanted = {k: v for k, v in model.params().items() if k != "epochs"}
                for key in ("model", "n_ratings", "n_users", "n_items"):
                    if stamp.get(key) != mine[key]:
                        raise InputError(f"{self.path}: checkpoint is for {key}={stamp.get(key)}, "
                                         f"this run has {mine[key]}")
                if params != wanted:
                    diff = sorted(k for k in set(params) | set(wanted) if params.get(k) != wanted.get(k))
                    raise InputError(f"{self.path}: checkpoint was written with other parameters "
                                     f"({', '.join(diff)})")
                model._set_state(state)
                model.history = history
        if not found:
            if comm.is_root:
                log.info("no checkpoint in %s: starting from epoch 0", self.directory)
            return 0
        if comm.is_root:
            if stamp["ranks"] != comm.size:
                log.warning("checkpoint written with %d ranks, resuming with %d: the result will "
                            "differ from an uninterrupted run", stamp["ranks"], comm.size)
            log.info("resuming from %s after epoch %d", self.path, epoch)
        return epoch


class _StopFlag:
    def __init__(self, enabled: bool):
        self.enabled, self.raised = enabled, False

    def requested(self, comm: Comm) -> bool:
        """True on every rank if any rank received SIGTERM (collective when enabled)."""
        return self.enabled and bool(comm.allreduce_scalar(int(self.raised), "max"))


@contextlib.contextmanager
def stop_signal(enabled: bool = True):
    """Within the block, SIGTERM only sets a flag (read with ``flag.requested(comm)``)."""
    flag = _StopFlag(enabled)
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum, frame):
        flag.raised = True

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGTERM, previous)
