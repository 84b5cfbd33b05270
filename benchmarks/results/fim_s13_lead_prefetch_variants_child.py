import gc
import json
import sys
import time

import hpcrec
from hpcrec.core.comm import serial
from hpcrec.fim import mine_itemsets
from hpcrec.io import load_transactions

comm = serial()
out = {"v": sys.argv[1], "file": hpcrec.__file__}
for case in sys.argv[2:]:
    path, s, algo = case.split(":")
    tx = load_transactions(path, comm)
    mine_itemsets(tx, float(s), algo, comm=comm)
    best = 1e9
    gc.disable()
    for _ in range(7):
        t = time.perf_counter()
        mine_itemsets(tx, float(s), algo, comm=comm)
        best = min(best, time.perf_counter() - t)
    gc.enable()
    out[case.split("/")[-1]] = round(best, 4)
print(json.dumps(out), flush=True)
