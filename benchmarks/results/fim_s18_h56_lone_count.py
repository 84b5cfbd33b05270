"""How many FP-Growth nodes of T10I4D100K and retail.dat at 0.0001 have one child (from the
output: a set's parent is the set without its most frequent item; perfect extensions not
counted; session 18, helper h56)."""
import collections

from hpcrec.core.comm import serial
from hpcrec.fim import mine_itemsets
from hpcrec.io import load_transactions

comm = serial()
for d, s in (("T10I4D100K.dat", 0.0001), ("retail.dat", 0.0001)):
    r = mine_itemsets(load_transactions(f"/work/shared/data/fim/{d}", comm), s, "fpgrowth", comm=comm)
    sets = {}
    single = {}
    for x in range(len(r)):
        its = r.items[r.ptr[x]:r.ptr[x + 1]].tolist()
        sets[frozenset(its)] = int(r.counts[x])
        if len(its) == 1:
            single[its[0]] = int(r.counts[x])
    rank = {i: k for k, i in enumerate(sorted(single, key=lambda i: (-single[i], i)))}
    kids = collections.Counter()
    for y, c in sets.items():
        if len(y) < 2:
            continue
        top = min(y, key=lambda i: rank[i])
        p = y - {top}
        if c < sets[p]:
            kids[p] += 1
    hist = collections.Counter(kids.values())
    nodes = len(kids)
    print(d, "sets", len(sets), "nodes with children", nodes,
          "one child", hist[1], "two", hist[2], "3-64", sum(v for k, v in hist.items() if 3 <= k <= 64),
          "more", sum(v for k, v in hist.items() if k > 64))
