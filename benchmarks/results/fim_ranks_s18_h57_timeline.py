"""A rank's time line of `hpcrec mine`: per step, its start on the shared clock (s after the
earliest rank's start), wall, time inside MPI calls (waits included), user, sys s and minor
faults (getrusage deltas), and the huge pages the whole process faulted in (/proc/vmstat
is machine-wide: read only around the whole run by the caller). Steps are the engine's and
pfp's functions, not nested unless named `a/b`:
`mpiexec -n N python -m mpi4py THIS mine DATA --min-support S --algorithm A -q -o OUT`
(a `git archive` tree on PYTHONPATH, as fim_ranks_s17_h51.sh runs them)."""
import concurrent.futures
import contextlib
import functools
import os
import resource
import sys
import time

T0 = time.time()

from mpi4py import MPI  # noqa: E402

import hpcrec.cli.mine as cm  # noqa: E402
from hpcrec.cli import main  # noqa: E402
from hpcrec.core import comm as C  # noqa: E402
from hpcrec.fim import engine, pfp  # noqa: E402
from hpcrec.io import atomic, h5slices, results  # noqa: E402
from hpcrec.kernels import projected as P  # noqa: E402

ROWS = []          # (name, start, wall, mpi, user, sys, faults)
STACK = []         # open steps: [name, mpi seconds inside]
IN_MPI = [False]


def snap():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return time.time(), r.ru_utime, r.ru_stime, r.ru_minflt


@contextlib.contextmanager
def step(name):
    a = snap()
    STACK.append([name, 0.0])
    try:
        yield
    finally:
        b = snap()
        _, mpi = STACK.pop()
        if STACK:
            STACK[-1][1] += mpi
        ROWS.append((name, a[0], b[0] - a[0], mpi, b[1] - a[1], b[2] - a[2], b[3] - a[3]))


def wrap(mod, name, label=None, each=False):
    """``mod.name`` timed as a step (``each``: every call its own, numbered)."""
    f = getattr(mod, name)
    calls = [0]

    @functools.wraps(f)
    def g(*x, **k):
        calls[0] += 1
        with step((label or name) + (f" #{calls[0]}" if each else "")):
            return f(*x, **k)
    setattr(mod, name, g)


def wrap_mpi(name):
    f = getattr(C.Comm, name)

    @functools.wraps(f)
    def g(self, *x, **k):
        if IN_MPI[0] or not STACK:
            return f(self, *x, **k)
        IN_MPI[0] = True
        t = time.time()
        try:
            return f(self, *x, **k)
        finally:
            IN_MPI[0] = False
            STACK[-1][1] += time.time() - t
    setattr(C.Comm, name, g)


for n in ("allreduce", "bcast", "allgatherv", "gatherv", "allgather_rows", "allgather_counts",
          "alltoallv", "bcast_obj", "gather_obj", "allgather_obj", "barrier", "quiet_barrier"):
    wrap_mpi(n)
for mod, names in [(engine, "local_transactions prepare merged_records sorted_records decoded"),
                   (pfp, "_mine_local _cross_rank_kept records _closure_roles "
                         "_extended _exchange"),
                   (P, "conditional_rows _reserve _grown"),
                   (results, "write_itemsets used_labels"), (atomic, "_fsync"),
                   (h5slices, "_image"), (os, "fsync"), (concurrent.futures, "wait")]:
    for n in names.split():
        wrap(mod, n)
wrap(pfp, "_shared_round", each=True)   # a round: its wall, and the waits at its end
for n in ("__init__", "close"):   # the file's opening and closing (main thread only)
    wrap(h5slices.Slices, n, "Slices." + n)
cm.mine_itemsets, cm.write_itemsets = engine.mine_itemsets, results.write_itemsets
a0 = snap()
comm = MPI.COMM_WORLD
t_first = comm.allreduce(T0, op=MPI.MIN)
with step("cli-main"):
    main(sys.argv[1:], process=True)
r = resource.getrusage(resource.RUSAGE_SELF)
ROWS.insert(0, ("imports+MPI init", T0, a0[0] - T0, 0.0, a0[1], a0[2], a0[3]))
ROWS.append(("process so far", T0, time.time() - T0, 0.0, r.ru_utime, r.ru_stime, r.ru_minflt))
agg = {}
for name, t, w, mpi, u, s, f in ROWS:
    a = agg.setdefault(name, [t, 0.0, 0.0, 0.0, 0.0, 0, 0])
    a[1] += w
    a[2] += mpi
    a[3] += u
    a[4] += s
    a[5] += f
    a[6] += 1
lines = comm.gather("\n".join(
    f"  r{comm.rank} {k:26s} at {v[0] - t_first:6.2f} wall {v[1]:6.2f} mpi {v[2]:5.2f} "
    f"user {v[3]:6.2f} sys {v[4]:5.2f} flt {v[5] / 1e3:6.1f}k n {v[6]}"
    for k, v in sorted(agg.items(), key=lambda kv: kv[1][0])) +
    f"\n  r{comm.rank} end-of-main at {time.time() - t_first:.2f} (first start {t_first:.3f})")
if comm.rank == 0:
    print("\n".join(lines))
