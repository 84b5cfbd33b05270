"""Per-rank rusage deltas (wall, user, sys, minor faults; inclusive, calls summed) around
timer phases and chosen functions of `hpcrec mine`: python -m mpi4py prof.py ARGS..."""
import contextlib, functools, resource, sys, time
T0 = time.perf_counter(); R0 = resource.getrusage(resource.RUSAGE_SELF)
from mpi4py import MPI
from hpcrec.core import timing
from hpcrec.fim import engine, pfp, result
from hpcrec.io import results, h5slices
from hpcrec.kernels import superset as S
T = {}
def snap():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return (time.perf_counter(), r.ru_utime, r.ru_stime, r.ru_minflt)
def add(name, a):
    b = snap(); t = T.setdefault(name, [0.0, 0.0, 0.0, 0, 0])
    for i in range(4): t[i] += b[i] - a[i]
    t[4] += 1
orig_phase = timing.Timer.phase
@contextlib.contextmanager
def phase(self, name):
    a = snap()
    with orig_phase(self, name) as s:
        try: yield s
        finally: add("phase:" + name, a)
timing.Timer.phase = phase
def wrap(mod, name):
    f = getattr(mod, name, None)
    if f is None: return
    @functools.wraps(f)
    def g(*x, **k):
        a = snap()
        try: return f(*x, **k)
        finally: add(name, a)
    setattr(mod, name, g)
for mod, names in [(pfp, "mine _mine_local _exchange _builds _shared_round _cross_rank_kept _closure_roles _met_elsewhere _extended records _lattice_groups"),
                   (engine, "mine_itemsets merged_records sorted_records decoded local_transactions prepare block_cuts"),
                   (results, "write_itemsets_h5 used_labels"), (h5slices, "write")]:
    for n in names.split(): wrap(mod, n)
import hpcrec.cli.mine as cm
cm.mine_itemsets = engine.mine_itemsets; cm.write_itemsets = results.write_itemsets
from hpcrec.cli import main
a0 = snap()
rc = main(sys.argv[1:])
add("cli-main", a0)
r = resource.getrusage(resource.RUSAGE_SELF)
T["process-to-end"] = [time.perf_counter() - T0, r.ru_utime, r.ru_stime, r.ru_minflt, 1]
T["before-main(imports)"] = [a0[0] - T0, a0[1], a0[2], a0[3], 1]
comm = MPI.COMM_WORLD
lines = comm.gather("\n".join(f"  r{comm.rank} {k:28s} wall {v[0]:6.2f} user {v[1]:6.2f} sys {v[2]:5.2f} flt {v[3]/1e3:7.1f}k n {v[4]}" for k, v in T.items()))
if comm.rank == 0: print("\n".join(lines))
