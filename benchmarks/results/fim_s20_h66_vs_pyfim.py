"""hpcrec FP-Close against pyfim's closed mining in one process (session 20, helper h66):
calls alternated (order flipped each time), the run context built outside, gc off; CPU
ms, best and median, and their ratios.

    python fim_s20_h66_vs_pyfim.py FILE.h5 SUPPORT[,SUPPORT...] N   (FILE.rows.txt beside it)
"""
import gc
import statistics
import sys
import time

import fim

from hpcrec.core.comm import serial
from hpcrec.core.context import RunContext
from hpcrec.fim import mine_itemsets
from hpcrec.fim.result import min_count
from hpcrec.io import load_transactions

comm = serial()
path, sups, n = sys.argv[1], [float(x) for x in sys.argv[2].split(",")], int(sys.argv[3])
tx = load_transactions(path, comm)
with open(path.replace(".h5", ".rows.txt")) as f:
    rows = [[int(x) for x in line.split()] for line in f]


def pyfim(s):
    return fim.fpgrowth(rows, target="c", supp=-min_count(s, len(rows)), zmin=1, report="a")


for s in sups:
    mine_itemsets(tx, s, "fpclose", comm=comm)
    pyfim(s)
    res = {"h": [], "p": []}
    for i in range(n):
        for v in ("h", "p") if i % 2 else ("p", "h"):
            ctx = RunContext.build(comm)
            gc.disable()
            a = time.process_time()
            out = mine_itemsets(tx, s, "fpclose", context=ctx) if v == "h" else pyfim(s)
            res[v].append(time.process_time() - a)
            del out
            gc.enable()
    h, p = res["h"], res["p"]
    print(f"{s}: hpcrec min {min(h) * 1e3:.2f} med {statistics.median(h) * 1e3:.2f}  "
          f"pyfim min {min(p) * 1e3:.2f} med {statistics.median(p) * 1e3:.2f}  "
          f"ratio min {min(h) / min(p):.3f} med {statistics.median(h) / statistics.median(p):.3f}",
          flush=True)
