"""Per-kernel cycle shares of the search from a tree patched by fim_s15_h43_cycles_patch.py
(run with that tree first on PYTHONPATH): ``python THIS PATH:SUPPORT:ALGORITHM ...``,
5 runs per case after a warm-up."""
import sys
import time

import numpy as np

import hpcrec
from hpcrec.core.comm import serial
from hpcrec.fim import mine_itemsets
from hpcrec.io import load_transactions
from hpcrec.kernels import projected as P

print(hpcrec.__file__)
comm = serial()
for case in sys.argv[1:]:
    path, s, algo = case.split(":")
    tx = load_transactions(path, comm)
    mine_itemsets(tx, float(s), algo, comm=comm)
    P.PROF[:] = 0
    n = 5
    t = time.perf_counter()
    for _ in range(n):
        mine_itemsets(tx, float(s), algo, comm=comm)
    dt = (time.perf_counter() - t) / n
    p = np.concatenate((np.zeros(10), P.PROF / n))
    names = {10: "children d0", 12: "children d>0 branch", 14: "children d>0 leaf", 16: "bit_columns",
             18: "wide_columns",
             20: "fill d0", 22: "fill d>0", 24: "bit_search", 26: "wide_search", 36: "pair_counts", 38: "pair_children"}
    tot = p[28]
    print(case.split('/')[-1], f"run {dt*1e3:.1f} ms, search cycles {tot/1e6:.1f}M")
    for k, nm in names.items():
        print(f"  {nm:22s} {p[k]/1e6:8.1f}M cyc {100*p[k]/tot:5.1f}%  calls {p[k+1]:.0f}")
    print("  rows scanned by depth", p[30:34])
