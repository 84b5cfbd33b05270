"""Per-rank wall/CPU seconds (calls summed) of FP-Close's cross-rank steps and what follows
the search: `python -m mpi4py THIS DATA SUPPORT ALGORITHM` under mpiexec (HDF5 result
blocks, no file written). The wrap list of fim_ranks_s15_h42_prof.py with the pair
bitmaps (`pfp._met_elsewhere`, `superset.pair_bits`, `superset.met_elsewhere`: where the
tree has them) and `_cross_rank_kept` added."""
import functools
import sys
import time

from mpi4py import MPI

from hpcrec.fim import engine, pfp
from hpcrec.kernels import merge
from hpcrec.kernels import superset as S

T = {}


def wrap(mod, name):
    f = getattr(mod, name, None)
    if f is None:
        return

    @functools.wraps(f)
    def g(*a, **k):
        w, c = time.perf_counter(), time.process_time()
        try:
            return f(*a, **k)
        finally:
            t = T.setdefault(name, [0.0, 0.0, 0])
            t[0] += time.perf_counter() - w
            t[1] += time.process_time() - c
            t[2] += 1
    setattr(mod, name, g)


for mod, name in [(pfp, "_mine_local"), (pfp, "_cross_rank_kept"), (pfp, "_closure_roles"),
                  (pfp, "_met_elsewhere"), (S, "pair_bits"), (S, "met_elsewhere"),
                  (S, "by_owner"), (S, "closure_roles"), (pfp, "_extended"), (pfp, "records"),
                  (engine, "merged_records"), (engine, "sorted_records"), (merge, "merge_runs"),
                  (engine, "decoded")]:
    wrap(mod, name)
data, sup, alg = sys.argv[1], float(sys.argv[2]), sys.argv[3]
comm = MPI.COMM_WORLD
comm.Barrier()
w, c = time.perf_counter(), time.process_time()
res = engine.mine_itemsets(data, sup, alg, result_on="blocks")
w, c = time.perf_counter() - w, time.process_time() - c
n = comm.allreduce(len(res.counts))
after = c - T["_mine_local"][1]
lines = comm.gather(f"rank {comm.rank}: total wall {w:.2f} cpu {c:.2f} after-search cpu {after:.2f} "
                    f"sets {n} | " + "  ".join(f"{k} {v[0]:.2f}/{v[1]:.2f}" for k, v in T.items()))
if comm.rank == 0:
    print(f"{data.split('/')[-1]} {sup} {alg} ranks {comm.size}")
    print("\n".join(lines))
