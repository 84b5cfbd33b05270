"""The communicator: decomposition, buffer collectives (incl. message splitting), failure handling.

Serial tests check the pure functions and the 1-rank stand-in; ``mpi`` tests check the
collectives against NumPy references computed on every rank; subprocess tests start
``mpiexec -n 3`` jobs that must fail fast, never hang.
"""
from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest
from conftest import MPIEXEC, run_command
from helpers import needs_ranks

from hpcrec.core import comm as comm_mod
from hpcrec.core.comm import chunk, fault_point, serial, weighted_bounds, world
from hpcrec.core.errors import HpcrecError, RankFailed

# -- decomposition -------------------------------------------------------------------------

@pytest.mark.parametrize("n", [0, 1, 2, 5, 7, 100, 101])
@pytest.mark.parametrize("size", [1, 2, 3, 4, 8])
def test_chunk_tiles_range_evenly(n, size):
    ranges = [chunk(n, r, size) for r in range(size)]
    assert ranges[0][0] == 0 and ranges[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))   # contiguous, no overlap
    lengths = [hi - lo for lo, hi in ranges]
    assert max(lengths) - min(lengths) <= 1
    assert lengths == sorted(lengths, reverse=True)                 # the extras go first


@pytest.mark.parametrize("rank,size", [(-1, 2), (2, 2), (0, 0)])
def test_chunk_rejects_bad_rank(rank, size):
    with pytest.raises(ValueError):
        chunk(10, rank, size)


def _check_bounds(b, n, size):
    assert len(b) == size + 1 and b[0] == 0 and b[-1] == n
    assert np.all(np.diff(b) >= 0)


@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_weighted_bounds_balances_nonzeros(size):
    rng = np.random.default_rng(0)
    lengths = rng.integers(0, 50, 997)
    indptr = np.concatenate(([0], np.cumsum(lengths)))
    b = weighted_bounds(indptr, size)
    _check_bounds(b, 997, size)
    loads = indptr[b[1:]] - indptr[b[:-1]]
    assert loads.max() - loads.min() <= 2 * lengths.max()           # within a row or two
    assert abs(loads.sum() - indptr[-1]) == 0


def test_weighted_bounds_edge_cases():
    _check_bounds(weighted_bounds(np.array([0]), 3), 0, 3)              # no rows
    _check_bounds(weighted_bounds(np.array([0, 0, 0]), 3), 2, 3)        # rows, no nonzeros
    b = weighted_bounds(np.array([0, 0, 0]), 2)
    assert list(b) == [0, 1, 2]                                         # then split by rows
    b = weighted_bounds(np.array([0, 10]), 4)                           # fewer rows than ranks
    _check_bounds(b, 1, 4)
    assert sum(b[r + 1] - b[r] for r in range(4)) == 1
    b = weighted_bounds(np.array([0, 1, 2, 1000]), 2)                   # one huge row
    _check_bounds(b, 3, 2)
    with pytest.raises(ValueError):
        weighted_bounds(np.array([0, 1]), 0)


# -- serial stand-in -----------------------------------------------------------------------

def test_serial_comm_collectives_are_identities():
    c = serial()
    assert (c.rank, c.size, c.local_rank, c.local_size, c.is_root) == (0, 1, 0, 1, True)
    a = np.arange(5.0)
    assert c.allreduce(a) is a and c.allreduce_scalar(3) == 3
    assert np.array_equal(c.allgatherv(a), a)
    recv, counts = c.alltoallv(a, [5])
    assert np.array_equal(recv, a) and list(counts) == [5]
    assert c.bcast_obj("x") == "x" and c.gather_obj(1) == [1] and c.allgather_obj(2) == [2]
    with pytest.raises(ValueError):
        c.alltoallv(a, [4])


def test_serial_collective_errors_reraises_original():
    with pytest.raises(KeyError):
        with serial().collective_errors():
            raise KeyError("k")


def test_noncontiguous_buffers_rejected():
    a = np.zeros((4, 4))[:, 1]
    with pytest.raises(ValueError):
        serial().allreduce(a)
    with pytest.raises(ValueError):
        serial().bcast(a)


def test_fault_point_spec(monkeypatch):
    c = serial()
    monkeypatch.setenv("HPCREC_FAIL", "0:read")
    fault_point("compute", c)                                   # other phase: nothing
    with pytest.raises(RuntimeError, match="injected failure at phase 'read'"):
        fault_point("read", c)
    monkeypatch.setenv("HPCREC_FAIL", "1:read")
    fault_point("read", c)                                      # other rank: nothing
    for bad in ("read", "x:read", "0:read:explode", "0:read:kill:1"):
        monkeypatch.setenv("HPCREC_FAIL", bad)
        with pytest.raises(HpcrecError, match="HPCREC_FAIL"):
            fault_point("read", c)


# -- collectives under MPI -----------------------------------------------------------------

@pytest.mark.mpi
def test_mpi_allreduce_ops():
    c = world()
    base = np.arange(7, dtype=np.float64)
    for op, ref in (("sum", sum(base * (r + 1) for r in range(c.size))),
                    ("max", base * c.size), ("min", base * 1)):
        a = base * (c.rank + 1)
        assert np.array_equal(c.allreduce(a, op), ref)
    assert c.allreduce_scalar(c.rank + 1) == c.size * (c.size + 1) // 2
    assert c.allreduce_scalar(0.5) == pytest.approx(0.5 * c.size)


@pytest.mark.mpi
def test_mpi_allgatherv_uneven():
    c = world()
    mine = np.full(c.rank, c.rank, dtype=np.int32)          # rank 0 sends nothing
    ref = np.concatenate([np.full(r, r, dtype=np.int32) for r in range(c.size)])
    out = c.allgatherv(mine)
    assert out.dtype == np.int32 and np.array_equal(out, ref)
    got = c.gatherv(mine, root=c.size - 1)                   # only the root receives
    assert (np.array_equal(got, ref) and got.dtype == np.int32) if c.rank == c.size - 1 \
        else got is None


@pytest.mark.mpi
def test_mpi_quiet_barrier_waits_for_the_slowest():
    """A rank that arrives early waits until the last one arrives (no rank leaves early),
    and sleeps through a long wait: it spins only its first ``SPIN_S``."""
    import time

    from hpcrec.core.comm import SPIN_S
    c = world()
    _ = c.owns_cores   # asked once, a collective: before the wait
    c.barrier()
    if c.rank == 0:
        time.sleep(0.6)
    t0, cpu0 = time.perf_counter(), time.process_time()
    c.quiet_barrier()
    waited, spun = time.perf_counter() - t0, time.process_time() - cpu0
    assert waited >= 0.5 if c.rank != 0 else waited < 0.6
    assert c.rank == 0 or spun < SPIN_S + 0.2 < waited


@pytest.mark.mpi
@pytest.mark.parametrize("bound", ["own", "shared"])
def test_mpi_ranks_own_cores_where_their_affinities_cover_them(bound, monkeypatch):
    """The node's ranks own their cores where the union of their affinities holds as many
    cores as ranks (each bound to its own here), not where they share fewer (all on one)."""
    import os

    from hpcrec.core.comm import Comm
    c = world()
    monkeypatch.setattr(os, "sched_getaffinity",
                        lambda pid: {c.rank} if bound == "own" else {0}, raising=False)
    assert Comm(c.mpi).owns_cores == (bound == "own" or c.size == 1)


def _alltoallv_case(c, dtype=np.int64):
    """Rank s sends (s + d) % 3 + s elements to rank d, each encoding (s, d, position)."""
    counts = np.array([(c.rank + d) % 3 + c.rank for d in range(c.size)], dtype=np.int64)
    send = np.concatenate([1000 * c.rank + 100 * d + np.arange(counts[d]) for d in range(c.size)])
    ref = np.concatenate([1000 * s + 100 * c.rank + np.arange((s + c.rank) % 3 + s)
                          for s in range(c.size)])
    return send.astype(dtype), counts, ref.astype(dtype)


@pytest.mark.mpi
def test_mpi_alltoallv():
    c = world()
    send, counts, ref = _alltoallv_case(c)
    recv, rcounts = c.alltoallv(send, counts)
    assert np.array_equal(recv, ref)
    assert list(rcounts) == [(s + c.rank) % 3 + s for s in range(c.size)]


@pytest.mark.mpi
def test_mpi_bcast_and_objects():
    c = world()
    a = np.arange(6, dtype=np.float32) if c.is_root else np.zeros(6, dtype=np.float32)
    assert np.array_equal(c.bcast(a), np.arange(6, dtype=np.float32))
    assert c.allgather_obj(c.rank) == list(range(c.size))
    g = c.gather_obj(c.rank * 2)
    assert g == ([2 * r for r in range(c.size)] if c.is_root else None)
    assert 0 <= c.local_rank < c.local_size <= c.size


@pytest.mark.mpi
def test_mpi_large_message_splitting(monkeypatch):
    """Messages past _MAX_MSG elements go in pieces (tested with a tiny limit)."""
    c = world()
    monkeypatch.setattr(comm_mod, "_MAX_MSG", 4)
    a = np.arange(23, dtype=np.int64) * (c.rank + 1)
    assert np.array_equal(c.allreduce(a.copy()), np.arange(23) * (c.size * (c.size + 1) // 2))
    b = np.arange(11, dtype=np.float64) if c.is_root else np.zeros(11)
    assert np.array_equal(c.bcast(b), np.arange(11.0))
    mine = np.full(3 * c.rank + 2, c.rank, dtype=np.int16)
    ref = np.concatenate([np.full(3 * r + 2, r, dtype=np.int16) for r in range(c.size)])
    assert np.array_equal(c.allgatherv(mine), ref)
    got = c.gatherv(mine)
    assert np.array_equal(got, ref) if c.is_root else got is None
    send, counts, ref = _alltoallv_case(c, np.int32)
    recv, _ = c.alltoallv(send, counts)                      # several rounds of Alltoallv
    assert np.array_equal(recv, ref)


@pytest.mark.mpi
def test_mpi_collective_errors_all_ranks_raise():
    c = world()
    needs_ranks(c)   # one rank raises its own (test_serial_collective_errors_reraises_original)
    with pytest.raises(RankFailed, match=r"^rank 0: ValueError: bad thing on 0$"):
        with c.collective_errors():
            if c.rank == 0:
                raise ValueError("bad thing on 0")
    last = c.size - 1
    with pytest.raises(RankFailed, match=rf"^rank {last}: only me$"):
        with c.collective_errors():
            if c.rank == last:
                raise HpcrecError("only me\nsecond line dropped")
    with c.collective_errors():                              # no failure: no exception
        pass
    c.barrier()


# -- whole jobs that must fail fast --------------------------------------------------------

def _mpiexec(n, args, env=None, timeout=60):
    if not MPIEXEC.exists():
        pytest.skip(f"no mpiexec next to {sys.executable}")
    return run_command([MPIEXEC, "-n", n, *args], env=env, timeout=timeout)


@pytest.mark.parametrize("spec", ["1:read", "2:read:kill", "0:read"])
def test_failing_rank_ends_job(mpirun, tmp_path, spec):
    """A rank that raises or is SIGKILLed in the read phase ends the job at once, naming the
    rank, and the output is not written (nor a temporary file left)."""
    rank = spec.split(":")[0]
    source = tmp_path.parent / f"{tmp_path.name}-input.dat"
    source.write_text("1 2 3\n2 3\n" * 1000)
    out = tmp_path / "out.h5"
    rc, _, err = mpirun(3, "convert", source, "-o", out, env={"HPCREC_FAIL": spec}, timeout=60)
    assert rc != 0
    assert f"rank {rank}" in err, err
    if not spec.endswith("kill"):
        assert f"hpcrec: error: rank {rank}: RuntimeError: injected failure at phase 'read'" in err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_uncaught_exception_outside_collective_aborts(tmp_path):
    """A bug on one rank while the others wait in a collective: MPI Abort, no hang."""
    script = tmp_path / "boom.py"
    script.write_text(textwrap.dedent("""
        import sys
        from hpcrec import cli
        from hpcrec.cli import data
        from hpcrec.core.comm import world

        def boom(args):
            c = world()
            if c.rank == 1:
                raise ZeroDivisionError("boom on one rank")
            c.barrier()           # the others wait here: only an abort can end them
            return 0

        data.cmd_info = boom
        sys.exit(cli.main(["info", "anything"]))
    """))
    rc, out, err = _mpiexec(3, [sys.executable, script], timeout=60)
    assert rc != 0
    assert "hpcrec: error: rank 1: internal error: ZeroDivisionError: boom on one rank" in err
    assert "Traceback" not in err


# -- whether to start MPI at all ---------------------------------------------------------

_PROBE = ("import os, sys; from hpcrec.core.comm import world; "   # one write per rank: no interleaving
          "os.write(1, f\"{world().size} {'mpi4py.MPI' in sys.modules}\\n\".encode())")


@pytest.mark.parametrize("env, started", [({}, False), ({"HPCREC_MPI": "1"}, True)])
def test_plain_process_skips_mpi_startup(env, started):
    """Without a launcher a process runs on the serial stand-in and never initialises MPI
    (a singleton would be one rank anyway); ``HPCREC_MPI=1`` forces MPI."""
    pytest.importorskip("mpi4py")
    rc, out, err = run_command([sys.executable, "-c", _PROBE], env=env, timeout=60)
    assert rc == 0, err
    assert out.split() == ["1", str(started)]


def test_launched_process_starts_mpi():
    """Under a launcher (its PMI variables) every rank starts MPI and sees the world."""
    rc, out, err = _mpiexec(2, [sys.executable, "-c", _PROBE], timeout=60)
    assert rc == 0, err
    assert out.split() == ["2", "True", "2", "True"]


def test_launched_by_mpi_reads_launcher_variables(monkeypatch):
    for name in list(comm_mod._LAUNCHER_VARS) + ["HPCREC_MPI"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delitem(sys.modules, "mpi4py.MPI", raising=False)
    assert not comm_mod.launched_by_mpi()
    for name in ("PMI_RANK", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "SLURM_STEP_ID"):
        monkeypatch.setenv(name, "0")
        assert comm_mod.launched_by_mpi()
        monkeypatch.delenv(name)
