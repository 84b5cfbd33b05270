"""In process (session 19, helper h63): mine_itemsets FP-Close with the cgroup limit cached
(the branch) vs read per call (main's behaviour: own_cgroup_bytes replaced by cgroup_bytes),
calls alternated, the order flipped each time.

    python fim_s19_h63_cgroup_ab.py FILE SUPPORT[,SUPPORT...] N
"""
import statistics
import sys
import time

from hpcrec.core import memory as M
from hpcrec.core.comm import serial
from hpcrec.fim import mine_itemsets
from hpcrec.io import load_transactions

comm = serial()
tx = load_transactions(sys.argv[1], comm)
sups = [float(x) for x in sys.argv[2].split(",")]
n = int(sys.argv[3])
cached = M.own_cgroup_bytes
for s in sups:
    mine_itemsets(tx, s, "fpclose", comm=comm)
    t = {"cached": [], "read": []}
    c = {"cached": [], "read": []}
    for i in range(n):
        for v in (("cached", "read") if i % 2 else ("read", "cached")):
            M.own_cgroup_bytes = cached if v == "cached" else M.cgroup_bytes
            a, b = time.perf_counter(), time.process_time()
            mine_itemsets(tx, s, "fpclose", comm=comm)
            t[v].append(time.perf_counter() - a)
            c[v].append(time.process_time() - b)
    M.own_cgroup_bytes = cached
    for v in t:
        print(f"{s} {v}: wall min {min(t[v])*1e3:.2f} median {statistics.median(t[v])*1e3:.2f} ms, "
              f"CPU min {min(c[v])*1e3:.2f} median {statistics.median(c[v])*1e3:.2f} ms")
    print(f"{s} cached/read: wall median {statistics.median(t['cached'])/statistics.median(t['read']):.3f}, "
          f"CPU median {statistics.median(c['cached'])/statistics.median(c['read']):.3f}, "
          f"wall min {min(t['cached'])/min(t['read']):.3f}")
