"""Apriori over tid-lists on p ranks (session 23, lead): the union of the ranks' often
extensions (``union``: what the tree chooses) against listed candidates on every block
(``listed``: ``IntersectingCounter.often`` returns None on every rank). One warm run, then
the best wall of two; rank 0 prints one JSON line: the often lists' entries summed over
ranks and blocks (``lists_all_ranks``), the union counted, the joins of the blocks listed,
the blocks listed (rank 0) and those that fell back to candidates (bitsets at later
levels, or the UNION_JOINS bound), and the CPU seconds of all ranks. Past 2 ranks the
2-core VM is oversubscribed: compare the two modes at one p, not across p (MPICH polls
while it waits, so CPU includes that).

    flock /work/bench.lock mpiexec -n P python -m mpi4py \\
        benchmarks/results/fim_s23_union_ranks.py /work/shared/data/fim/T10I4D100K.dat 0.0001 union|listed
"""
import gc
import json
import sys
import time

from mpi4py import MPI

from hpcrec.core.comm import world
from hpcrec.fim import count_distribution as cd
from hpcrec.fim.engine import mine_itemsets
from hpcrec.io import load_transactions
from hpcrec.kernels.intersect import IntersectingCounter

path, support, mode = sys.argv[1], float(sys.argv[2]), sys.argv[3]
comm = world()
stats = dict.fromkeys(("lists", "union", "joins", "blocks", "fallback"), 0)
listed, union_block = IntersectingCounter.often, cd._union_block


def often(self, parents, partners, lo, hi, at_least):
    if mode == "listed":
        return None
    out = listed(self, parents, partners, lo, hi, at_least)
    if out is not None:
        stats["lists"] += len(out[1])
        stats["joins"] += int(partners[lo:hi].sum())
        stats["blocks"] += 1
    return out


def counted_union(*args):
    out = union_block(*args)
    if out is None:
        stats["fallback"] += 1
    else:
        stats["union"] += out[3]
    return out


IntersectingCounter.often = often
cd._union_block = counted_union
tx = load_transactions(path)
result = mine_itemsets(tx, support, "apriori", comm=comm)   # warm
gc.disable()
best = None
for _ in range(2):
    stats.update(dict.fromkeys(stats, 0))
    t, c0 = time.perf_counter(), time.process_time()
    result = mine_itemsets(tx, support, "apriori", comm=comm)
    wall, cpu = time.perf_counter() - t, time.process_time() - c0
    best = wall if best is None else min(best, wall)
lists = MPI.COMM_WORLD.allreduce(stats["lists"], MPI.SUM)
cpus = MPI.COMM_WORLD.gather(cpu, 0)
if MPI.COMM_WORLD.rank == 0:
    print(json.dumps({"p": MPI.COMM_WORLD.size, "mode": mode, "itemsets": len(result),
                      "wall": round(best, 3), "cpu_sum": round(sum(cpus), 3),
                      "lists_all_ranks": lists, "union": stats["union"], "joins": stats["joins"],
                      "blocks": stats["blocks"], "fallback": stats["fallback"]}))
