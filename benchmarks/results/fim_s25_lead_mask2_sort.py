"""Session 25, lead: the sort of dm 0.05's two-word mask keys in warm memory, per length
bucket as records of two key words (what ``result.sorted_records`` does) against NumPy's
argsort of the first words, a gather of both and an insertion sort of the runs of equal
first words; best of 2 each, alternated twice.

    python benchmarks/results/fim_s25_lead_mask2_sort.py [/tmp/ladder/dm.h5 0.05]
"""
import sys
import time

import numpy as np
from numba import njit

import hpcrec.fim.engine as engine
from hpcrec.io import load_transactions
from hpcrec.kernels import order


@njit(cache=True)
def _fix_runs(k0, k1):
    """Runs of equal k0 (sorted) ordered by k1."""
    a = 0
    while a < len(k0):
        b = a + 1
        while b < len(k0) and k0[b] == k0[a]:
            b += 1
        for i in range(a + 1, b):
            v, j = k1[i], i
            while j > a and k1[j - 1] > v:
                k1[j] = k1[j - 1]
                j -= 1
            k1[j] = v
        a = b


def as_records(keys, start):
    done = np.empty_like(keys)
    for b in np.flatnonzero(np.diff(start)):
        order.sort_records(keys[start[b]:start[b + 1]], done[start[b]:start[b + 1]], 2)
    return done


def by_argsort(keys, start):
    done = np.empty_like(keys)
    for b in np.flatnonzero(np.diff(start)):
        k = keys[start[b]:start[b + 1]]
        p = np.argsort(k[:, 0])
        k0, k1 = k[:, 0][p], k[:, 1][p]
        _fix_runs(k0, k1)
        done[start[b]:start[b + 1], 0], done[start[b]:start[b + 1], 1] = k0, k1
    return done


def main() -> None:
    path, support = (sys.argv[1], float(sys.argv[2])) if len(sys.argv) > 2 else ("/tmp/ladder/dm.h5", 0.05)
    kept = {}
    real = engine.sorted_records
    engine.sorted_records = lambda r: kept.setdefault("r", r._replace(rec=r.rec.copy())) and real(r)
    engine.mine_itemsets(load_transactions(path), support, "fpgrowth")
    recs = kept["r"]
    form = recs.form
    print("records", recs.rec.shape, "mask words", form.words, "count bits", form.count_bits)
    keys = np.empty((len(recs.rec), 2), np.int64)
    start = order.mask2_buckets(recs.rec, form.width, form.count_bits, keys)
    want = None
    for f in (as_records, by_argsort) * 2:
        best = float("inf")
        for _ in range(2):
            k = keys.copy()
            t = time.perf_counter()
            got = f(k, start)
            best = min(best, time.perf_counter() - t)
        want = got if want is None else want
        print(f.__name__, round(best, 3), "s; same order:", np.array_equal(got, want), flush=True)


if __name__ == "__main__":
    main()
