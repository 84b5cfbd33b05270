"""Per-call-site cycle shares of the search from a tree patched by
fim_s16_h47_cycles_patch.py: ``python THIS PATH:SUPPORT:ALGORITHM ...``, 5 runs per case
after a warm-up."""
import sys

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
    for _ in range(n):
        mine_itemsets(tx, float(s), algo, comm=comm)
    p = P.PROF / n
    tot = p[389]
    print(case.split('/')[-1], f"search cycles {tot/1e6:.1f}M")
    for k, lab in enumerate(P.LABELS):
        for d in range(3):
            c, nc = p[6 * k + 2 * d], p[6 * k + 2 * d + 1]
            if nc:
                print(f"  {lab:28s} d{d} {c/1e6:8.2f}M {100*c/tot:5.1f}%  calls {nc:9.0f}")
