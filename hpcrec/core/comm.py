"""The communicator: ranks, buffer collectives, data decomposition, abort-on-error.

This is the only module that imports mpi4py. Everything else talks to a :class:`Comm`,
which wraps an MPI communicator or, where mpi4py/MPI is unavailable, disabled with
``HPCREC_NO_MPI=1`` or not started by a launcher, stands in for a single process, so every
API works in a plain ``python`` session. Numbers travel through the upper-case (buffer) calls on contiguous
NumPy arrays; messages beyond 2**30 elements are split, so large counts never fail silently.
Owns no knowledge of itemsets or ratings.
"""
from __future__ import annotations

import contextlib
import os
import sys
import time
from functools import lru_cache

import numpy as np

from .errors import HpcrecError, RankFailed

_MAX_MSG = 1 << 30  # elements per buffer call: far below the 2**31 int-count limit of MPI < 4
# Seconds an aborting rank waits after flushing: launchers (MPICH's hydra, srun) forward a
# rank's output through pipes and stop reading once Abort has them kill the job, so the
# error line written just before could be lost (seen once, under load, as an empty stderr).
ABORT_GRACE_S = 0.3
SPIN_S = 0.1  # a barrier's wait spun before it sleeps (Comm.quiet_barrier)


def chunk(n: int, rank: int, size: int) -> tuple[int, int]:
    """Half-open range [start, stop) of ``n`` items owned by ``rank``; the first n % size ranks get one more."""
    if size <= 0 or not 0 <= rank < size:
        raise ValueError(f"invalid rank {rank} of size {size}")
    base, extra = divmod(int(n), size)
    start = rank * base + min(rank, extra)
    return start, start + base + (1 if rank < extra else 0)


def weighted_bounds(cumulative: np.ndarray, size: int) -> np.ndarray:
    """Split points (size + 1 row indices) that balance a non-decreasing cumulative weight.

    ``cumulative`` is e.g. a CSR ``indptr``: rank r then owns rows ``bounds[r]:bounds[r+1]``,
    each with about the same number of non-zeros. Monotone, so ranks never overlap.
    """
    if size <= 0:
        raise ValueError(f"invalid size {size}")
    cumulative = np.asarray(cumulative)
    n = max(len(cumulative) - 1, 0)
    total = int(cumulative[-1]) if n >= 0 else 0
    if n == 0 or total == 0:
        return np.array([chunk(n, r, size)[0] for r in range(size)] + [n], dtype=np.int64)
    targets = (np.arange(1, size, dtype=np.float64) * total) / size
    inner = np.searchsorted(cumulative, targets, side="left").astype(np.int64)
    bounds = np.concatenate(([0], np.clip(inner, 0, n), [n])).astype(np.int64)
    return np.maximum.accumulate(bounds)


class Comm:
    """A communicator: an mpi4py one, or a serial stand-in when ``mpi`` is None."""

    def __init__(self, mpi_comm=None):
        self._c = mpi_comm
        self.rank = mpi_comm.Get_rank() if mpi_comm is not None else 0
        self.size = mpi_comm.Get_size() if mpi_comm is not None else 1
        self.comm_seconds = 0.0  # time spent inside collectives, read by the timing records
        self.comm_bytes = 0      # bytes this rank contributed to collectives
        self.comm_calls = 0      # collective calls, for the latency term of scaling models
        self._local = None
        self._own_cores = None

    # -- topology ---------------------------------------------------------------
    @property
    def is_root(self) -> bool:
        return self.rank == 0

    @property
    def mpi(self):
        """The wrapped mpi4py communicator (None when serial)."""
        return self._c

    def _local_comm(self):
        if self._local is None:
            from mpi4py import MPI
            self._local = self._c.Split_type(MPI.COMM_TYPE_SHARED, key=self.rank)
        return self._local

    @property
    def local_rank(self) -> int:
        """Rank among the ranks on this node (from a shared-memory split, not rank arithmetic)."""
        return 0 if self._c is None or self.size == 1 else self._local_comm().Get_rank()

    @property
    def local_size(self) -> int:
        return 1 if self._c is None or self.size == 1 else self._local_comm().Get_size()

    @property
    def owns_cores(self) -> bool:
        """Whether the ranks on this node have a core each: no fewer cores than ranks in
        the union of their CPU affinities (asked once, a collective of the node's ranks;
        the first :meth:`quiet_barrier` asks, if nothing did before)."""
        if self._own_cores is None:
            if self._c is None or self.size == 1:
                self._own_cores = True
            else:
                mine = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
                    else list(range(os.cpu_count() or 1))
                cores = set().union(*self._local_comm().allgather(mine))
                self._own_cores = len(cores) >= self._local_comm().Get_size()
        return self._own_cores

    def chunk(self, n: int) -> tuple[int, int]:
        return chunk(n, self.rank, self.size)

    # -- collectives on arrays --------------------------------------------------
    @contextlib.contextmanager
    def _timed(self, nbytes: int):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.comm_seconds += time.perf_counter() - t0
            self.comm_bytes += int(nbytes)
            self.comm_calls += 1

    def allreduce(self, arr: np.ndarray, op: str = "sum") -> np.ndarray:
        """In-place element-wise reduction of a contiguous array over all ranks; returns it."""
        if not arr.flags.c_contiguous:
            raise ValueError("allreduce needs a C-contiguous array")
        if self.size == 1:
            return arr
        from mpi4py import MPI
        mpi_op = {"sum": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN, "lor": MPI.LOR}[op]
        flat = arr.reshape(-1)
        with self._timed(arr.nbytes):
            for s in range(0, flat.size, _MAX_MSG):
                self._c.Allreduce(MPI.IN_PLACE, flat[s:s + _MAX_MSG], op=mpi_op)
        return arr

    def allreduce_scalar(self, value, op: str = "sum"):
        """Reduce one number (int or float) over all ranks."""
        dtype = np.int64 if isinstance(value, (int, np.integer, bool)) else np.float64
        return self.allreduce(np.array([value], dtype=dtype), op)[0].item()

    def bcast(self, arr: np.ndarray, root: int = 0) -> np.ndarray:
        """In-place broadcast of a contiguous array from ``root``; shape and dtype must agree."""
        if not arr.flags.c_contiguous:
            raise ValueError("bcast needs a C-contiguous array")
        if self.size == 1:
            return arr
        flat = arr.reshape(-1)
        with self._timed(arr.nbytes if self.rank == root else 0):
            for s in range(0, flat.size, _MAX_MSG):
                self._c.Bcast(flat[s:s + _MAX_MSG], root=root)
        return arr

    def allgatherv(self, arr: np.ndarray) -> np.ndarray:
        """Concatenate every rank's 1-D array (rank order) on all ranks."""
        arr = np.ascontiguousarray(arr)
        if self.size == 1:
            return arr.copy()
        counts = self.allgather_counts(arr.size)
        out = np.empty(int(counts.sum()), dtype=arr.dtype)
        if counts.max(initial=0) > _MAX_MSG or counts.sum() > _MAX_MSG:
            # Large: a broadcast per rank, itself split into bounded messages.
            displ = np.concatenate(([0], np.cumsum(counts)))
            for r in range(self.size):
                piece = out[displ[r]:displ[r + 1]]
                if r == self.rank:
                    piece[...] = arr
                self.bcast(piece, root=r)
            return out
        from mpi4py import MPI
        displ = np.concatenate(([0], np.cumsum(counts)[:-1]))
        mtype = MPI._typedict[arr.dtype.char]
        with self._timed(arr.nbytes):
            self._c.Allgatherv(arr, [out, counts, displ, mtype])
        return out

    def gatherv(self, arr: np.ndarray, root: int = 0) -> np.ndarray | None:
        """Every rank's 1-D array concatenated in rank order on ``root`` (``None`` on the
        others): what only one rank needs (the rows it writes) is not sent to all."""
        arr = np.ascontiguousarray(arr)
        if self.size == 1:
            return arr.copy()
        counts = self.allgather_counts(arr.size)
        out = np.empty(int(counts.sum()), dtype=arr.dtype) if self.rank == root else None
        if counts.sum() > _MAX_MSG:   # large: point to point, in bounded messages
            displ = np.concatenate(([0], np.cumsum(counts)))
            with self._timed(arr.nbytes):
                if self.rank != root:
                    for s in range(0, arr.size, _MAX_MSG):
                        self._c.Send(arr[s:s + _MAX_MSG], dest=root, tag=7)
                    return None
                for r in range(self.size):
                    piece = out[displ[r]:displ[r + 1]]
                    if r == root:
                        piece[...] = arr
                        continue
                    for s in range(0, piece.size, _MAX_MSG):
                        self._c.Recv(piece[s:s + _MAX_MSG], source=r, tag=7)
            return out
        from mpi4py import MPI
        displ = np.concatenate(([0], np.cumsum(counts)[:-1]))
        with self._timed(arr.nbytes):
            self._c.Gatherv(arr, [out, counts, displ, MPI._typedict[arr.dtype.char]]
                            if self.rank == root else None, root=root)
        return out

    def allgather_rows(self, arr: np.ndarray, bounds: np.ndarray) -> np.ndarray:
        """In place: rows ``bounds[r]:bounds[r+1]`` of ``arr`` (C-contiguous, the same shape
        on every rank), as filled on rank r, reach every rank; returns ``arr``. No buffer is
        allocated, so a loop that gathers every iteration never faults in fresh pages."""
        if not arr.flags.c_contiguous:
            raise ValueError("allgather_rows needs a C-contiguous array")
        if self.size == 1:
            return arr
        per_row = int(np.prod(arr.shape[1:], dtype=np.int64))
        counts = np.diff(np.asarray(bounds, dtype=np.int64)) * per_row
        flat = arr.reshape(-1)
        if counts.sum() > _MAX_MSG:  # large: a broadcast per rank, split into bounded messages
            displ = np.concatenate(([0], np.cumsum(counts)))
            for r in range(self.size):
                self.bcast(flat[displ[r]:displ[r + 1]], root=r)
            return arr
        from mpi4py import MPI
        displ = np.concatenate(([0], np.cumsum(counts)[:-1]))
        with self._timed(int(counts[self.rank]) * arr.itemsize):
            self._c.Allgatherv(MPI.IN_PLACE, [flat, counts, displ, MPI._typedict[arr.dtype.char]])
        return arr

    def allgather_counts(self, n: int) -> np.ndarray:
        """Every rank's integer ``n`` as an int64 array of length size."""
        if self.size == 1:
            return np.array([n], dtype=np.int64)
        out = np.empty(self.size, dtype=np.int64)
        with self._timed(8):
            self._c.Allgather(np.array([n], dtype=np.int64), out)
        return out

    def alltoallv(self, send: np.ndarray, sendcounts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Personalised exchange: ``send`` holds the blocks for ranks 0..size-1 back to back.

        Returns (received array, counts received from each rank). Counts and
        displacements are computed here, from ``sendcounts`` alone. Blocks larger than
        ``_MAX_MSG / size`` elements travel in several rounds, which every rank agrees
        on because each rank's largest block rides along with the counts.
        """
        send = np.ascontiguousarray(send).reshape(-1)
        sendcounts = np.asarray(sendcounts, dtype=np.int64)
        if len(sendcounts) != self.size or sendcounts.min(initial=0) < 0 \
                or sendcounts.sum() != send.size:
            raise ValueError("sendcounts must have one non-negative entry per rank and sum to len(send)")
        if self.size == 1:
            return send.copy(), sendcounts.copy()
        from mpi4py import MPI
        header = np.empty((self.size, 2), dtype=np.int64)
        header[:, 0] = sendcounts
        header[:, 1] = sendcounts.max()
        got = np.empty_like(header)
        with self._timed(header.nbytes):
            self._c.Alltoall(header, got)
        recvcounts = np.ascontiguousarray(got[:, 0])
        cap = max(1, _MAX_MSG // self.size)          # elements per peer per round
        rounds = max(1, -(-int(got[:, 1].max()) // cap))
        recv = np.empty(int(recvcounts.sum()), dtype=send.dtype)
        sdispl = np.concatenate(([0], np.cumsum(sendcounts)[:-1]))
        rdispl = np.concatenate(([0], np.cumsum(recvcounts)[:-1]))
        mtype = MPI._typedict[send.dtype.char]
        if rounds == 1:
            with self._timed(send.nbytes):
                self._c.Alltoallv([send, sendcounts, sdispl, mtype],
                                  [recv, recvcounts, rdispl, mtype])
            return recv, recvcounts
        for k in range(rounds):  # round k moves elements [k*cap, (k+1)*cap) of every block
            sc = np.clip(sendcounts - k * cap, 0, cap)
            rc = np.clip(recvcounts - k * cap, 0, cap)
            sbuf = np.concatenate([send[sdispl[j] + k * cap:sdispl[j] + k * cap + sc[j]]
                                   for j in range(self.size)])
            rbuf = np.empty(int(rc.sum()), dtype=send.dtype)
            with self._timed(sbuf.nbytes):
                self._c.Alltoallv([sbuf, sc, np.cumsum(sc) - sc, mtype],
                                  [rbuf, rc, np.cumsum(rc) - rc, mtype])
            pos = 0
            for j in range(self.size):
                recv[rdispl[j] + k * cap:rdispl[j] + k * cap + rc[j]] = rbuf[pos:pos + rc[j]]
                pos += rc[j]
        return recv, recvcounts

    # -- point to point -----------------------------------------------------------
    def notices(self) -> "Notices":
        """A channel of small integers to every other rank (:class:`Notices`). Collective."""
        return Notices(self)

    # -- small Python objects (metadata only: pickled) --------------------------
    def bcast_obj(self, obj, root: int = 0):
        return obj if self.size == 1 else self._c.bcast(obj, root=root)

    def gather_obj(self, obj, root: int = 0):
        return [obj] if self.size == 1 else self._c.gather(obj, root=root)

    def allgather_obj(self, obj):
        return [obj] if self.size == 1 else self._c.allgather(obj)

    def barrier(self) -> None:
        if self.size > 1:
            self._c.Barrier()

    def quiet_barrier(self) -> None:
        """A barrier that spins through a short wait and sleeps through a long one (a
        nonblocking barrier tested back to back for ``SPIN_S``, where the node's ranks
        have a core each (:attr:`owns_cores`), then at growing intervals, 0.1 ms up to
        10 ms). Spinning a long wait, as MPICH and Open MPI do in a blocking collective,
        would take a core from the ranks still working (a rank waiting for another's I/O;
        on an oversubscribed node every wait: 3 ranks on 2 cores ran the MPI tests of
        tests/fim in 60 s spinning, 31 s sleeping); sleeping through every short wait
        costs each a sleeper's wake-up (on this KVM guest 0.3 of apriori's 2.1 s on 2
        ranks, dense-mushroom 0.07, whose blocks' phases end in waits of milliseconds;
        at 0.04, 6.1-6.3 s spinning 0.1 s against 6.6-6.7 s spinning 10 ms). A long wait
        costs at most one interval of latency."""
        if self.size == 1:
            return
        spin_until = time.perf_counter() + (SPIN_S if self.owns_cores else 0.0)
        req = self._c.Ibarrier()
        while not req.Test():
            if time.perf_counter() > spin_until:
                break
        else:
            return
        pause = 1e-4
        while not req.Test():
            time.sleep(pause)
            pause = min(2 * pause, 1e-2)

    # -- failure handling -------------------------------------------------------
    @contextlib.contextmanager
    def collective_errors(self):
        """Run a local phase on every rank; if any rank raises, all ranks raise together.

        The lowest failing rank's message is re-raised everywhere as :class:`RankFailed`
        (so it is printed once, by rank 0), and no rank is left waiting in a later
        collective. Keep collectives out of the body: a rank failing there would strand them.
        """
        error = None
        try:
            yield
        except Exception as exc:  # noqa: BLE001 - re-raised below on every rank
            error = exc
        if self.size == 1:
            if error is not None:
                raise error
            return
        self.quiet_barrier()   # a rank done early waits (sleeps, if long) for the slowest
        flags = self.allgather_counts(0 if error is None else 1)
        if not flags.any():
            return
        first = int(np.flatnonzero(flags)[0])
        message = self.bcast_obj(describe_error(error) if self.rank == first else None, root=first)
        raise RankFailed(f"rank {first}: {message}") from error

    def abort(self, code: int = 1) -> None:
        """End the whole job now (every rank), with exit status ``code``."""
        sys.stdout.flush()
        sys.stderr.flush()
        if self._c is not None and self.size > 1:
            time.sleep(ABORT_GRACE_S)
            self._c.Abort(code)
        os._exit(code)


class Notices:
    """Integers a rank tells every other rank without waiting for them (nonblocking sends
    of 8 bytes, delivered eagerly) and reads once they have arrived: how ranks that deal
    work among themselves on demand tell each other what they took. :meth:`close` (on
    every rank, given how many each rank sent) receives what is still in flight, so no
    message outlives the channel. The messages travel on a duplicate of the communicator
    (made here, collectively; freed by :meth:`close`), so none is confused with a message
    of the caller's that happens to use the same tag."""

    TAG = 0   # any: the duplicate carries no other message

    def __init__(self, comm: Comm):
        self._comm = comm
        self._c = comm.mpi.Dup() if comm.size > 1 else None
        self._sends: list = []                         # (buffer, requests) kept until close
        self._got = np.zeros(comm.size, np.int64)      # received from each rank

    def send(self, value: int) -> None:
        """Tell every other rank ``value``."""
        c = self._comm
        if c.size == 1:
            return
        buf = np.array([value], np.int64)
        self._sends.append((buf, [self._c.Isend(buf, dest=q, tag=self.TAG)
                                  for q in range(c.size) if q != c.rank]))

    def arrived(self) -> list[int]:
        """What the other ranks told this one since the last call (per sender in order)."""
        c = self._comm
        if c.size == 1:
            return []
        from mpi4py import MPI
        out, status, buf = [], MPI.Status(), np.empty(1, np.int64)
        # MPICH's first Iprobe only moves arrived messages in (seen: false 0.2 s after
        # the send), so "none" is believed only from two in a row
        while self._c.Iprobe(source=MPI.ANY_SOURCE, tag=self.TAG, status=status) or \
                self._c.Iprobe(source=MPI.ANY_SOURCE, tag=self.TAG, status=status):
            src = status.Get_source()
            self._c.Recv(buf, source=src, tag=self.TAG)
            self._got[src] += 1
            out.append(int(buf[0]))
        return out

    def close(self, sent: np.ndarray) -> list[int]:
        """Receive the rest (``sent[q]``: values rank q sent in all) and finish this rank's
        sends; returns the values received here."""
        c = self._comm
        if c.size == 1:
            return []
        from mpi4py import MPI
        out, buf = [], np.empty(1, np.int64)
        for q in range(c.size):
            while q != c.rank and self._got[q] < sent[q]:
                self._c.Recv(buf, source=q, tag=self.TAG)
                self._got[q] += 1
                out.append(int(buf[0]))
        MPI.Request.Waitall([r for _, reqs in self._sends for r in reqs])
        self._sends = []
        self._c.Free()
        self._c = None
        return out


def describe_error(exc: BaseException) -> str:
    """One line for a user: the message of an hpcrec error, else 'Type: message'."""
    text = str(exc).strip().splitlines()
    text = text[0] if text else ""
    if isinstance(exc, HpcrecError):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# Variables that MPI launchers put into every process they start: MPICH/Intel Hydra and Flux
# (PMI_*), Open MPI/PRRTE and PMIx-based srun/jsrun (OMPI_*, PMIX_*), MVAPICH (MV2_*), Cray
# PALS/ALPS, SLURM's srun steps; HPCREC_EXPECT_RANKS is set by hpcrec's own runners.
_LAUNCHER_VARS = ("PMI_RANK", "PMI_SIZE", "PMI_FD", "PMI_PORT", "PMIX_RANK", "PMIX_NAMESPACE",
                  "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE", "MPI_LOCALNRANKS",
                  "PALS_RANKID", "ALPS_APP_PE", "SLURM_STEP_ID", "HPCREC_EXPECT_RANKS")


def launched_by_mpi() -> bool:
    """Whether this process should start MPI: a launcher started it, or MPI is already up.

    A plain ``python``/``hpcrec`` process would only get a one-rank singleton, so it skips
    MPI's start-up (tens of ms, and a PMI server on some MPIs) and runs on the serial
    stand-in, which behaves as one rank. ``HPCREC_MPI=1`` forces MPI for launchers not
    listed here.
    """
    return ("mpi4py.MPI" in sys.modules or os.environ.get("HPCREC_MPI") == "1"
            or any(name in os.environ for name in _LAUNCHER_VARS))


@lru_cache(maxsize=1)
def world() -> Comm:
    """The job's communicator (COMM_WORLD), or a serial stand-in without MPI or launcher.

    With ``HPCREC_EXPECT_RANKS`` set (test runners and jobscripts do), a size mismatch
    (e.g. a launcher of one MPI starting mpi4py built against another, which gives
    size-1 singletons) is an error rather than silently wrong results.
    """
    if os.environ.get("HPCREC_NO_MPI") == "1" or not launched_by_mpi():
        comm = Comm(None)
    else:
        try:
            from mpi4py import MPI
        except (ImportError, RuntimeError, OSError):  # no mpi4py, or no MPI library behind it
            comm = Comm(None)
        else:
            comm = Comm(MPI.COMM_WORLD)
    expected = os.environ.get("HPCREC_EXPECT_RANKS")
    if expected and expected.isdigit() and int(expected) != comm.size:
        raise HpcrecError(
            f"started with {comm.size} MPI rank(s) but HPCREC_EXPECT_RANKS={expected}: "
            "is mpi4py built against the MPI whose launcher started this job?")
    return comm


def mpi_library() -> str:
    """The MPI library's own version line (e.g. ``MPICH Version: 4.1.2``), or ``none``."""
    if os.environ.get("HPCREC_NO_MPI") == "1":
        return "none"
    try:
        from mpi4py import MPI
    except ImportError:
        return "none"
    return " ".join(MPI.Get_library_version().strip().splitlines()[0].split())


def serial() -> Comm:
    """A single-process communicator, for running an algorithm on one rank's data only."""
    return Comm(None)


def resolve(comm: Comm | None) -> Comm:
    """The given communicator, or the job's world communicator."""
    return world() if comm is None else comm


def fault_point(phase: str, comm: Comm | None = None) -> None:
    """Fault injection for resilience tests: ``HPCREC_FAIL=RANK:PHASE[:kill]``.

    Rank RANK raises (or SIGKILLs itself with ``:kill``) when it reaches ``phase``.
    """
    spec = os.environ.get("HPCREC_FAIL")
    if not spec:
        return
    parts = spec.split(":")
    if not 2 <= len(parts) <= 3 or not parts[0].isdigit() or parts[2:] not in ([], ["kill"]):
        raise HpcrecError(f"HPCREC_FAIL={spec!r}: expected RANK:PHASE or RANK:PHASE:kill")
    if parts[1] != phase or resolve(comm).rank != int(parts[0]):
        return
    if len(parts) > 2:  # "kill": die like a node or the OOM killer would, saying so first
        import signal
        print(f"hpcrec: rank {parts[0]}: injected SIGKILL at phase '{phase}' (pid {os.getpid()})",
              file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    raise RuntimeError(f"injected failure at phase '{phase}'")
