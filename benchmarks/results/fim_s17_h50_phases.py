"""Per-phase in-process profile of ``mine_itemsets`` on one rank, best of N per phase
(session 14, helper h38; benchmarks/README.md, "FP-Close by bit columns below small nodes";
session 17, helper h50: the /tmp/h45 ladder, longtail, and _bucket_sizes / _fill_buckets timed):
each kernel called from Python is wrapped in a timer.

    python fim_s14_h38_phases.py N DATA:SUPPORT:ALGORITHM ...

DATA: chess, mushroom or connect (the generated ``dense-*.h5`` of fim_bench.py in
LADDER) or a FIMI file name of /work/shared/data/fim.
"""
import gc
import sys
import time
from collections import defaultdict

from hpcrec.core.comm import serial
from hpcrec.fim import engine, mine_itemsets, pfp
from hpcrec.io import load_transactions
from hpcrec.kernels import exchange as E
from hpcrec.kernels import projected as P

LADDER = "/tmp/h45/ladder"
acc = defaultdict(float)


def wrap(mod, name, label=None):
    f = getattr(mod, name)

    def timed(*a, **k):
        t = time.perf_counter()
        r = f(*a, **k)
        acc[label or name] += time.perf_counter() - t
        return r
    setattr(mod, name, timed)


for mod, name, label in ((engine, "prepare", None), (E, "prefix_weights", None),
                         (E, "skip_round", None), (P, "conditional_rows", None),
                         (P, "_first_work", None), (P, "_bucket_sizes", None),
                         (P, "_fill_buckets", None), (P, "_search", None), (P, "_grown", None),
                         (P, "_reserve", None), (pfp, "records", "records(build)"),
                         (engine, "sorted_records", "sort"), (engine, "decoded", "decode")):
    wrap(mod, name, label)
comm = serial()
n_runs = int(sys.argv[1])
for case in sys.argv[2:]:
    d, s, algo = case.split(":")
    path = f"/work/shared/data/fim/{d}" if d.endswith(".dat") else \
        f"{LADDER}/{d}.h5" if d == "longtail" else f"{LADDER}/dense-{d}.h5"
    tx = load_transactions(path, comm)
    mine_itemsets(tx, float(s), algo, comm=comm)
    best = {}
    gc.disable()
    for _ in range(n_runs):
        acc.clear()
        t, c = time.perf_counter(), time.process_time()
        r = mine_itemsets(tx, float(s), algo, comm=comm)
        cur = {**acc, "total": time.perf_counter() - t, "cpu": time.process_time() - c}
        best = {k: min(best.get(k, 1e9), v) for k, v in cur.items()}
    gc.enable()
    best["other"] = best["total"] - sum(v for k, v in best.items() if k not in ("total", "cpu"))
    print(case, len(r), " ".join(f"{k}={v * 1e3:.2f}" for k, v in best.items()), flush=True)
