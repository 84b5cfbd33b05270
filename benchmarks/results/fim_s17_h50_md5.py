"""md5 of items, ptr and counts of mine_itemsets per case DATA:SUPPORT:ALGORITHM[:MAX_LEN]
(session 17, helper h50): run once with main (a git archive on PYTHONPATH) and once with
the branch, and diff. DATA: a FIMI name, longtail, or mushroom / chess / connect (the
ladder in $LADDER, default /tmp/h45/ladder). With LEVELS=1 the hash also covers (levels,
partial), which the line then shows (session 22, helper h70)."""
import hashlib
import os
import sys

import numpy as np

import hpcrec
from hpcrec.core.comm import serial
from hpcrec.fim import mine_itemsets
from hpcrec.io import load_transactions

LADDER = os.environ.get("LADDER", "/tmp/h45/ladder")
LEVELS = os.environ.get("LEVELS") == "1"
comm = serial()
print("#", hpcrec.__file__)
for case in sys.argv[1:]:
    parts = case.split(":")
    d, s, algo = parts[:3]
    ml = int(parts[3]) if len(parts) > 3 else None
    path = f"/work/shared/data/fim/{d}" if d.endswith(".dat") else \
        f"{LADDER}/{d}.h5" if d == "longtail" else f"{LADDER}/dense-{d}.h5"
    r = mine_itemsets(load_transactions(path, comm), float(s), algo, max_len=ml, comm=comm)
    h = hashlib.md5()
    for a in (r.items, r.ptr, r.counts):
        h.update(np.ascontiguousarray(a).tobytes())
    if LEVELS:
        h.update(str((r.levels, r.partial)).encode())
    print(case, len(r), *([r.levels] if LEVELS else []), h.hexdigest(), flush=True)
