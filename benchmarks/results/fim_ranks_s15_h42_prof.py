"""Per-rank timers (wall/CPU seconds, calls summed) around the distribution layer of FP-Max /
FP-Close: `python -m mpi4py THIS DATA SUPPORT ALGORITHM` under mpiexec (HDF5 result blocks,
no file written)."""
import functools
import sys
import time

from mpi4py import MPI

from hpcrec.core.comm import Comm
from hpcrec.fim import engine, pfp
from hpcrec.kernels import exchange as E
from hpcrec.kernels import merge
from hpcrec.kernels import superset as S

T = {}


def wrap(mod, name, label=None):
    f = getattr(mod, name)
    lab = label or name
    @functools.wraps(f)
    def g(*a, **k):
        w, c = time.perf_counter(), time.process_time()
        try:
            return f(*a, **k)
        finally:
            t = T.setdefault(lab, [0.0, 0.0, 0])
            t[0] += time.perf_counter() - w
            t[1] += time.process_time() - c
            t[2] += 1
    setattr(mod, name, g)


for mod, name in [(pfp, "_mine_local"), (pfp, "_closure_roles"), (pfp, "_extended"), (pfp, "records"),
                  (pfp, "mine"), (engine, "merged_records"), (engine, "sorted_records"),
                  (engine, "block_cuts"), (merge, "merge_runs"), (engine, "decoded"),
                  (S, "by_owner"), (E, "parse_records"), (E, "shard_prefixes"), (E, "skip_round"),
                  (E, "cut_rows"), (E, "prefix_weights"), (S, "closure_roles"),
                  (pfp, "_shared_round"), (pfp, "_others")]:
    wrap(mod, name)
for nm in ("alltoallv", "allgatherv"):
    wrap(Comm, nm)
data, sup, alg = sys.argv[1], float(sys.argv[2]), sys.argv[3]
comm = MPI.COMM_WORLD
comm.Barrier()
w, c = time.perf_counter(), time.process_time()
res = engine.mine_itemsets(data, sup, alg, result_on="blocks")
w, c = time.perf_counter() - w, time.process_time() - c
n = comm.allreduce(len(res.counts))
lines = comm.gather(f"rank {comm.rank}: total wall {w:.2f} cpu {c:.2f} sets {n} | " + "  ".join(
    f"{k} {v[0]:.2f}/{v[1]:.2f}" for k, v in T.items()))
if comm.rank == 0:
    print(f"{data.split('/')[-1]} {sup} {alg} ranks {comm.size}")
    print("\n".join(lines))
