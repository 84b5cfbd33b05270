"""Session 28, lead: one timed mining call in a fresh process (after a warm-up call at
support 0.3 that loads the Numba cache), the result left in blocks; prints per rank the
tree it imported, the call's seconds and the process peak MB before and after the call.

    [mpiexec -n 2] python benchmarks/results/fim_s28_lead_call.py DATA.h5 SUPPORT ALGORITHM
"""
import resource
import sys
import time

import hpcrec
from hpcrec.core.comm import world
from hpcrec.fim import mine_itemsets
from hpcrec.io import load_transactions

comm = world()
tx = load_transactions(sys.argv[1], comm)
mine_itemsets(tx, 0.3, sys.argv[3], comm=comm, result_on="blocks")
r0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
mine_itemsets(tx, float(sys.argv[2]), sys.argv[3], comm=comm, result_on="blocks")
t = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(comm.rank, hpcrec.__file__.split("/")[2], f"{t:.2f}s", r0 // 1024, peak // 1024, "MB")
