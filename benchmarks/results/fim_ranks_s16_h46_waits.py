"""Each sleeping wait of a rank for the others (`Comm.quiet_barrier`, which
`collective_errors` calls at the end of every local phase: wall s over 5 ms) with the
pfp/engine function it ends, per rank, for one `mine_itemsets(..., result_on="blocks")`:
`mpiexec -n 2 python -m mpi4py fim_ranks_s16_h46_waits.py DATA SUPPORT ALGORITHM`."""
import sys
import time
import traceback

from mpi4py import MPI

from hpcrec.core.comm import Comm
from hpcrec.fim import engine

W = []
_qb = Comm.quiet_barrier


def qb(self):
    t = time.perf_counter()
    _qb(self)
    st = [f for f in traceback.extract_stack(limit=8) if "/fim/" in f.filename]
    W.append((st[-1].name + ":" + str(st[-1].lineno) if st else "?", time.perf_counter() - t))


Comm.quiet_barrier = qb
data, sup, alg = sys.argv[1], float(sys.argv[2]), sys.argv[3]
t0 = time.perf_counter()
engine.mine_itemsets(data, sup, alg, result_on="blocks")
out = MPI.COMM_WORLD.gather((time.perf_counter() - t0, W))
if MPI.COMM_WORLD.rank == 0:
    for r, (tot, w) in enumerate(out):
        print(f"rank {r} total {tot:.2f}: " + " ".join(f"{k} {v:.3f}" for k, v in w if v > 0.005))
