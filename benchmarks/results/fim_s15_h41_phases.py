"""Per-phase CPU ms of ``mine_itemsets`` in one process, best of N per phase, with call
counts (session 15, helper h41): each kernel called from Python is wrapped in a
process-time timer; the run context is built outside the timing, as fim_bench.py does.

    python fim_s15_h41_phases.py N DATA:SUPPORT:ALGORITHM ...

DATA: a FIMI file of /work/shared/data/fim or a generated ``dense-*`` set of fim_bench.py
in LADDER. ``MINR=...`` sets pfp.MIN_ROUND (the rounds' size on one rank)."""
import gc
import os
import sys
import time
from collections import defaultdict

from hpcrec.core.comm import serial
from hpcrec.core.context import RunContext
from hpcrec.fim import engine, mine_itemsets, pfp
from hpcrec.fim import prepare as PR
from hpcrec.io import load_transactions
from hpcrec.kernels import exchange as E
from hpcrec.kernels import lattice as L
from hpcrec.kernels import projected as P

LADDER = "/tmp/h41/ladder"
INNER = ("recode_rows", "_bucket_sizes", "_fill_buckets")   # inside other timed calls
acc = defaultdict(float)
calls = defaultdict(int)


def wrap(mod, name):
    f = getattr(mod, name)

    def timed(*a, **k):
        t = time.process_time()
        r = f(*a, **k)
        acc[name] += time.process_time() - t
        calls[name] += 1
        return r
    setattr(mod, name, timed)


for mod, name in ((engine, "prepare"), (PR, "recode_rows"), (E, "prefix_weights"), (E, "skip_round"),
                  (P, "_bucket_sizes"), (P, "_fill_buckets"), (P, "_first_work"), (P, "_search"),
                  (P, "_grown"), (P, "_reserve"), (L, "mask_histogram"), (L, "frequent_subsets"),
                  (P, "add_sets"), (pfp, "records"), (engine, "sorted_records"), (engine, "decoded"),
                  (engine, "local_transactions")):
    wrap(mod, name)
if os.environ.get("MINR"):
    pfp.MIN_ROUND = int(os.environ["MINR"])
comm = serial()
n_runs = int(sys.argv[1])
for case in sys.argv[2:]:
    d, s, algo = case.split(":")
    path = f"/work/shared/data/fim/{d}" if d.endswith(".dat") else f"{LADDER}/{d}.h5"
    tx = load_transactions(path, comm)
    mine_itemsets(tx, float(s), algo, comm=comm)
    best = {}
    gc.disable()
    for _ in range(n_runs):
        acc.clear()
        calls.clear()
        ctx = RunContext.build(comm)
        t, c = time.perf_counter(), time.process_time()
        r = mine_itemsets(tx, float(s), algo, context=ctx)
        cur = {**acc, "total": time.perf_counter() - t, "cpu": time.process_time() - c}
        best = {k: min(best.get(k, 1e9), v) for k, v in cur.items()}
    gc.enable()
    best["other"] = best["total"] - sum(v for k, v in best.items() if k not in ("total", "cpu", *INNER))
    print(case, len(r), " ".join(f"{k}={v * 1e3:.2f}" + (f"x{calls[k]}" if calls.get(k, 1) > 1 else "")
                                 for k, v in best.items()), flush=True)
