"""The one stop request: signals and a time limit, agreed across ranks, handlers installed
only by the code that builds the run and only in the main thread."""
from __future__ import annotations

import os
import signal
import threading

import numpy as np
import pytest

from hpcrec.core.comm import serial, world
from hpcrec.core.context import RunContext
from hpcrec.core.errors import TrainingInterrupted
from hpcrec.core.stop import StopRequest
from hpcrec.fim import mine_itemsets
from hpcrec.mf import BiasedSGD

RATINGS = (np.repeat(np.arange(12), 5), np.tile(np.arange(5), 12) * 2 % 9,
           (np.arange(60) % 5 + 1).astype(float))


def test_time_limit_and_signal_make_a_local_request():
    assert not StopRequest(serial()).requested()
    assert not StopRequest(serial()).active and not StopRequest(serial()).agreed()
    assert StopRequest(serial(), time_limit=0.0).requested()
    stop = StopRequest(serial(), signals=(signal.SIGUSR1,))
    with stop.watching():
        assert signal.getsignal(signal.SIGUSR1) != signal.SIG_DFL
        os.kill(os.getpid(), signal.SIGUSR1)
        assert stop.requested() and stop.agreed() and stop.signalled == signal.SIGUSR1
    assert signal.getsignal(signal.SIGUSR1) == signal.SIG_DFL   # restored


def test_a_non_main_thread_installs_no_handler(tmp_path):
    before = signal.getsignal(signal.SIGTERM)
    seen, errors = [], []

    def body():
        try:
            with RunContext.build(serial(), stop_signals=(signal.SIGTERM,)) as ctx:
                seen.append(signal.getsignal(signal.SIGTERM))
                seen.append(ctx.stop.agreed())
            model = BiasedSGD(factors=2, epochs=2).set_checkpoint(tmp_path)   # watches SIGTERM
            model.fit(RATINGS, serial())
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    assert errors == [] and seen == [before, False]


def test_training_stops_after_the_epoch_of_the_request(tmp_path):
    model = BiasedSGD(factors=2, epochs=5).set_checkpoint(tmp_path)
    assert model.stop_signals == (signal.SIGTERM,)
    assert BiasedSGD(factors=2, epochs=5).stop_signals == ()

    def on_epoch(rec):
        if rec["epoch"] == 2:
            os.kill(os.getpid(), signal.SIGTERM)

    with pytest.raises(TrainingInterrupted, match="after epoch 2; checkpoint in"):
        model.fit(RATINGS, serial(), callback=on_epoch)
    assert len(model.history) == 2 and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


@pytest.mark.mpi
def test_stop_is_agreed_across_ranks():
    """Only the last rank sees the signal; every rank agrees to stop (and none otherwise)."""
    comm = world()
    stop = StopRequest(comm, signals=(signal.SIGUSR1,))
    assert stop.agreed() is False
    if comm.rank == comm.size - 1:
        stop.signalled = signal.SIGUSR1
    assert stop.agreed() is True
    assert comm.allgather_obj(stop.requested()) == [r == comm.size - 1 for r in range(comm.size)]


@pytest.mark.mpi
def test_training_stops_on_every_rank_after_the_same_epoch(tmp_path):
    comm = world()
    folder = comm.bcast_obj(str(tmp_path))
    model = BiasedSGD(factors=2, epochs=5).set_checkpoint(folder)
    ctx = RunContext.build(comm, stop_signals=model.stop_signals)

    def on_epoch(rec):   # only the last rank is asked to stop, after epoch 2
        if rec["epoch"] == 2 and comm.rank == comm.size - 1:
            ctx.stop.signalled = signal.SIGTERM

    with pytest.raises(TrainingInterrupted, match="after epoch 2"):
        model.fit(RATINGS, callback=on_epoch, context=ctx)
    assert comm.allgather_obj(len(model.history)) == [2] * comm.size


@pytest.mark.mpi
def test_mining_stops_on_every_rank_at_the_same_level():
    comm = world()
    rows = [[i % 7, (i + 1) % 7, (i + 3) % 7, (i * 5) % 7] for i in range(70)]
    ctx = RunContext.build(comm, stop_signals=(signal.SIGUSR1,))
    if comm.rank == comm.size - 1:   # only the last rank has seen the signal
        ctx.stop.signalled = signal.SIGUSR1
    part = mine_itemsets(rows, 0.1, "apriori", context=ctx)
    full = mine_itemsets(rows, 0.1, "apriori", comm=comm)
    assert part.partial and not full.partial
    assert comm.allgather_obj((len(part), part.levels)) == [(len(part), part.levels)] * comm.size
    assert len(part) < len(full)
