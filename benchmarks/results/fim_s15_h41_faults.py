"""Minor page faults and CPU ms of repeated ``mine_itemsets`` calls in one process (session
15, helper h41): each case ``data:support:algorithm`` runs 3 times unmeasured, then NRUN
(default 5) times, each printed as (faults, CPU ms). Data: a FIMI file of
/work/shared/data/fim or a generated ``dense-*`` set of fim_bench.py in /tmp/h41/ladder."""
import gc
import os
import resource
import sys
import time

from hpcrec.core.comm import serial
from hpcrec.core.context import RunContext
from hpcrec.fim import mine_itemsets
from hpcrec.io import load_transactions

comm = serial()
for case in sys.argv[1:]:
    d, s, a = case.split(":")
    path = f"/work/shared/data/fim/{d}" if d.endswith(".dat") else f"/tmp/h41/ladder/{d}.h5"
    tx = load_transactions(path, comm)
    for _ in range(3):
        mine_itemsets(tx, float(s), a, comm=comm)
    gc.disable()
    res = []
    for _ in range(int(os.environ.get("NRUN", 5))):
        ctx = RunContext.build(comm)
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        c = time.process_time()
        r = mine_itemsets(tx, float(s), a, context=ctx)
        c = time.process_time() - c
        res.append((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0, round(c * 1e3, 2)))
        del r
    gc.enable()
    print(case, res)
