"""Session 20, lead: one fresh process mines a case N times after warming its kernels at an
easy support; per run wall, user and sys seconds and minor faults (the first run on a cold
heap, the next ones reusing it).

    python benchmarks/results/fim_s20_lead_cold.py DATA.h5 SUPPORT ALGORITHM N
"""
import gc
import resource
import sys
import time

from hpcrec.core.context import RunContext
from hpcrec.fim.engine import mine_itemsets
from hpcrec.io import load_transactions

path, sup, alg, n = sys.argv[1], float(sys.argv[2]), sys.argv[3], int(sys.argv[4])
tx = load_transactions(path)
ctx = RunContext.build(None)
mine_itemsets(tx, 0.3, alg, context=ctx)
gc.disable()
for k in range(n):
    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    res = mine_itemsets(tx, sup, alg, context=ctx)
    t1, r1 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    print(f"run {k}: wall {t1 - t0:.3f} user {r1.ru_utime - r0.ru_utime:.3f} "
          f"sys {r1.ru_stime - r0.ru_stime:.3f} faults {r1.ru_minflt - r0.ru_minflt}", flush=True)
    del res
