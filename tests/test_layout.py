"""The start-up layout line (hpcrec.layout): rank -> node, cores, GPU; shared cores reported."""
import os

import pytest
from helpers import needs_ranks

from hpcrec import layout
from hpcrec.core.comm import serial, world


@pytest.mark.parametrize("cores, text", [([0], "0"), ([0, 1, 2, 5], "0-2,5"), ([3, 1, 2, 7, 8], "1-3,7-8"),
                                         ([], "")])
def test_core_ranges(cores, text):
    assert layout.core_ranges(cores) == text


def test_line_names_this_process(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-1234")
    monkeypatch.setenv("NUMBA_NUM_THREADS", "3")
    (line,) = layout.lines(serial())
    mine = layout.core_ranges(os.sched_getaffinity(0))
    assert line == (f"layout: rank 0/1 on {os.uname().nodename}: {len(os.sched_getaffinity(0))} "
                    f"core(s) {mine}, 3 thread(s), CUDA_VISIBLE_DEVICES=GPU-1234")


def test_cli_prints_the_layout_only_when_asked(run_cli, tmp_path):
    out = tmp_path / "r.h5"
    rc, _, err = run_cli("generate", "ratings", "--nnz", "50", "--rows", "10", "--items", "20",
                         "-o", out, env={"HPCREC_SHOW_LAYOUT": "1"})
    assert rc == 0 and "layout: rank 0/1 on " in err, err
    rc, _, err = run_cli("generate", "ratings", "--nnz", "50", "--rows", "10", "--items", "20", "-o", out)
    assert rc == 0 and "layout:" not in err


@pytest.mark.mpi
def test_every_rank_and_shared_cores_are_reported():
    comm = world()
    needs_ranks(comm)
    sets = comm.allgather_obj((os.uname().nodename, frozenset(os.sched_getaffinity(0))))
    out = layout.lines(comm)
    if comm.is_root:
        assert [line.split(" on ")[0] for line in out[:comm.size]] == [
            f"layout: rank {r}/{comm.size}" for r in range(comm.size)]
        overlap = any(a[0] == b[0] and a[1] & b[1] for i, a in enumerate(sets) for b in sets[i + 1:])
        assert overlap == any("share cores" in line for line in out)
