"""The one timer: phases, spans, the compute/communicate split and the record that the
benchmark harness reads."""
from __future__ import annotations

import time

import numpy as np
import pytest

from hpcrec.core.comm import serial, world
from hpcrec.core.timing import Timer


def test_phases_spans_and_notes():
    notes = []
    timer = Timer(serial(), on_phase=notes.append)
    with timer.phase("read") as span:
        time.sleep(0.01)
    assert span.seconds >= 0.01 and timer.phases["read"] == span.seconds
    loop = timer.span("read")
    assert loop.stop() == loop.stop()   # a span counts once
    assert timer.phases["read"] == pytest.approx(span.seconds + loop.seconds)
    with timer.computing():
        pass
    assert notes == ["read", "read", "compute"]
    assert set(timer.phases) == {"read", "compute", "communicate"}
    assert timer.summary(("read",)).startswith("read ") and "compute" not in timer.summary(("read",))


@pytest.mark.mpi
def test_record_counts_this_timers_collectives():
    comm = world()
    comm.allreduce(np.zeros(4))           # before the timer: not counted
    timer = Timer(comm)
    with timer.computing():
        comm.allreduce(np.zeros(8))
    rec = timer.record()
    multi = comm.size > 1
    assert rec["comm_calls"] == int(multi) and rec["comm_bytes"] == 64 * multi
    assert rec["phases"]["communicate"] == pytest.approx(rec["comm_s"])
    assert rec["total_s"] >= rec["phases"]["compute"] + rec["phases"]["communicate"] - 1e-9
