"""Per-phase CPU (or wall) times of mine_itemsets in process, best of N (session 14, h37).

Cases ``data:support:algorithm``; data a generated ladder name (chess, mushroom, connect in
/tmp/h37/ladder) or a FIMI file of /work/shared/data/fim. The kernels' Python entry points are
wrapped in timers (h33's prof.py of session 13, with process_time)."""
import argparse
import gc
import time

from hpcrec.core.comm import serial
from hpcrec.fim import engine, mine_itemsets, pfp
from hpcrec.io import load_transactions
from hpcrec.kernels import exchange as E
from hpcrec.kernels import lattice as L
from hpcrec.kernels import projected as P

WRAPPED = [(engine, "prepare"), (engine, "sorted_records"), (engine, "decoded"),
           (pfp, "_mine_local"), (E, "prefix_weights"), (E, "skip_round"),
           (P, "conditional_rows"), (P, "_search"), (P, "_reserve"), (P, "_first_work"),
           (P, "_grown"), (L, "mask_histogram"), (L, "frequent_subsets"), (P, "add_sets")]


def wrap(mod, name, acc, clock):
    f = getattr(mod, name)

    def timed(*args, **kwargs):
        t = clock()
        try:
            return f(*args, **kwargs)
        finally:
            acc[name] = acc.get(name, 0.0) + clock() - t
    setattr(mod, name, timed)


def path(d):
    if d.endswith(".dat"):
        return f"/work/shared/data/fim/{d}"
    return f"/tmp/h37/ladder/dense-{d}.h5"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cases", nargs="+")
    ap.add_argument("--n", type=int, default=15)
    ap.add_argument("--wall", action="store_true")
    a = ap.parse_args()
    clock = time.perf_counter if a.wall else time.process_time
    acc = {}
    for mod, name in WRAPPED:
        wrap(mod, name, acc, clock)
    comm = serial()
    for case in a.cases:
        d, s, algo = case.split(":")
        tx = load_transactions(path(d), comm)
        mine_itemsets(tx, float(s), algo, comm=comm)   # compiled / loaded, warm
        best, phases = None, {}
        gc.disable()
        for _ in range(a.n):
            acc.clear()
            t = clock()
            r = mine_itemsets(tx, float(s), algo, comm=comm)
            t = clock() - t
            if best is None or t < best:
                best, phases = t, dict(acc)
        gc.enable()
        ph = " ".join(f"{k}={v * 1e3:.2f}" for k, v in phases.items())
        print(f"{case}: n={len(r)} best={best * 1e3:.2f} ms | {ph}", flush=True)


if __name__ == "__main__":
    main()
