"""md5 of items, ptr, counts and (levels, partial) of mine_itemsets per case
DATA:SUPPORT:ALGORITHM[:MAX_LEN] (session 22, helper h70; h50's fim_s17_h50_md5.py with the
/tmp/ladder sets and the levels): run once with main (a git archive on PYTHONPATH) and once
with the branch, and diff."""
import hashlib
import sys

import numpy as np

import hpcrec
from hpcrec.core.comm import serial
from hpcrec.fim import mine_itemsets
from hpcrec.io import load_transactions

comm = serial()
print("#", hpcrec.__file__)
for case in sys.argv[1:]:
    parts = case.split(":")
    d, s, algo = parts[:3]
    ml = int(parts[3]) if len(parts) > 3 else None
    path = f"/work/shared/data/fim/{d}" if d.endswith(".dat") else \
        "/tmp/ladder/longtail.h5" if d == "longtail" else f"/tmp/ladder/dense-{d}.h5"
    r = mine_itemsets(load_transactions(path, comm), float(s), algo, max_len=ml, comm=comm)
    h = hashlib.md5()
    for a in (r.items, r.ptr, r.counts):
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(str((r.levels, r.partial)).encode())
    print(case, len(r), r.levels, h.hexdigest(), flush=True)
