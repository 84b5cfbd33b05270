"""Per-rank rusage deltas (wall, user, sys s, minor faults; inclusive, calls summed) around
the timer phases and the engine's functions of `hpcrec mine`:
`mpiexec -n N python -m mpi4py THIS mine DATA --min-support S --algorithm A -q -o OUT`
(a `git archive` tree on PYTHONPATH, as fim_ranks_s17_h51_prof.sh runs them)."""
import contextlib
import functools
import resource
import sys
import time

T0 = time.perf_counter()

from mpi4py import MPI  # noqa: E402

import hpcrec.cli.mine as cm  # noqa: E402
from hpcrec.cli import main  # noqa: E402
from hpcrec.core import timing  # noqa: E402
from hpcrec.fim import engine, pfp  # noqa: E402
from hpcrec.io import h5slices, results  # noqa: E402

T = {}


def snap():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return (time.perf_counter(), r.ru_utime, r.ru_stime, r.ru_minflt)


def add(name, a):
    b = snap()
    t = T.setdefault(name, [0.0, 0.0, 0.0, 0, 0])
    for i in range(4):
        t[i] += b[i] - a[i]
    t[4] += 1


orig_phase = timing.Timer.phase


@contextlib.contextmanager
def phase(self, name):
    a = snap()
    with orig_phase(self, name) as s:
        try:
            yield s
        finally:
            add("phase:" + name, a)


def wrap(mod, name):
    f = getattr(mod, name, None)
    if f is None:
        return

    @functools.wraps(f)
    def g(*x, **k):
        a = snap()
        try:
            return f(*x, **k)
        finally:
            add(name, a)
    setattr(mod, name, g)


timing.Timer.phase = phase
for mod, names in [(pfp, "mine _mine_local _exchange _builds _shared_round _cross_rank_kept "
                         "_closure_roles _met_elsewhere _extended records _lattice_groups"),
                   (engine, "mine_itemsets merged_records sorted_records decoded "
                            "local_transactions prepare block_cuts"),
                   (results, "write_itemsets_h5 used_labels"), (h5slices, "write")]:
    for n in names.split():
        wrap(mod, n)
cm.mine_itemsets, cm.write_itemsets = engine.mine_itemsets, results.write_itemsets
a0 = snap()
main(sys.argv[1:])
add("cli-main", a0)
r = resource.getrusage(resource.RUSAGE_SELF)
T["process-to-end"] = [time.perf_counter() - T0, r.ru_utime, r.ru_stime, r.ru_minflt, 1]
T["before-main(imports)"] = [a0[0] - T0, a0[1], a0[2], a0[3], 1]
comm = MPI.COMM_WORLD
lines = comm.gather("\n".join(
    f"  r{comm.rank} {k:28s} wall {v[0]:6.2f} user {v[1]:6.2f} sys {v[2]:5.2f} "
    f"flt {v[3] / 1e3:7.1f}k n {v[4]}" for k, v in T.items()))
if comm.rank == 0:
    print("\n".join(lines))
