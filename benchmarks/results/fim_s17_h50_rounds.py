"""In-process CPU time of mine_itemsets on one rank with pfp.SPARSE_ROUND 1 (rounds of
MIN_ROUND, as on main) / 4 / 16 / 64, alternated, best of 7 per variant, with
conditional_rows and _search timed (session 17, helper h50; benchmarks/README.md,
"Fewer rounds on one rank over sparse data").

    python fim_s17_h50_rounds.py DATA:SUPPORT:ALGORITHM ...   # DATA: a FIMI name or longtail
"""
import resource
import sys
import time

from hpcrec.core.comm import serial
from hpcrec.fim import mine_itemsets, pfp
from hpcrec.io import load_transactions
from hpcrec.kernels import projected as P

acc = {}


def wrap(mod, name):
    f = getattr(mod, name)

    def timed(*a, **k):
        t = time.process_time()
        r = f(*a, **k)
        d = acc.setdefault(name, [0.0, 0])
        d[0] += time.process_time() - t
        d[1] += 1
        return r
    setattr(mod, name, timed)


for name in ("conditional_rows", "_search"):
    wrap(P, name)
comm = serial()
for case in sys.argv[1:]:
    d, s, algo = case.split(":")
    path = f"/work/shared/data/fim/{d}" if d.endswith(".dat") else f"/tmp/h45/ladder/{d}.h5"
    tx = load_transactions(path, comm)
    for scale in (1, 4, 16, 64, 1, 4, 16, 64):
        pfp.SPARSE_ROUND = scale
        mine_itemsets(tx, float(s), algo, comm=comm)
        best = {}
        for _ in range(7):
            acc.clear()
            t = time.process_time()
            r = mine_itemsets(tx, float(s), algo, comm=comm)
            cur = {k: v[0] for k, v in acc.items()}
            cur["total"] = time.process_time() - t
            best = {k: min(best.get(k, 9), v) for k, v in cur.items()}
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        print(case, scale, peak, len(r), acc["conditional_rows"][1],
              " ".join(f"{k}={1e3 * v:.1f}" for k, v in best.items()), flush=True)
