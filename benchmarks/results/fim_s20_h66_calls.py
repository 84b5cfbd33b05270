"""CPU ms of mine_itemsets per case FILE:SUPPORT:ALGORITHM, N calls each after one untimed
call (run context built outside, gc off): best and median (session 20, helper h66). Run
once per tree (fim_s20_h66_calls.sh alternates main's and the branch's).

    python fim_s20_h66_calls.py N CASE ...
"""
import gc
import statistics
import sys
import time

import hpcrec
from hpcrec.core.comm import serial
from hpcrec.core.context import RunContext
from hpcrec.fim import mine_itemsets
from hpcrec.io import load_transactions

comm = serial()
n = int(sys.argv[1])
tag = "main" if "/tmp/h66/main" in hpcrec.__file__ else "branch"
for case in sys.argv[2:]:
    f, s, algo = case.split(":")
    tx = load_transactions(f, comm)
    mine_itemsets(tx, float(s), algo, comm=comm)
    t = []
    for _ in range(n):
        ctx = RunContext.build(comm)
        gc.disable()
        a = time.process_time()
        mine_itemsets(tx, float(s), algo, context=ctx)
        t.append(time.process_time() - a)
        gc.enable()
    print(f"{tag} {f.split('/')[-1]}:{s}:{algo} min {min(t) * 1e3:.2f} "
          f"med {statistics.median(t) * 1e3:.2f} ms", flush=True)
