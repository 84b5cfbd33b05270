"""Session 24, lead: ``order.decode`` of dense-mushroom 0.05's FP-Growth records (the record
layout: 63 frequent items do not fit the mask layout's key) into arrays already touched,
against ``decoded`` into fresh ones, and the first touch of arrays of the same sizes alone.

    python benchmarks/results/fim_s24_lead_decode.py   # in the repository's venv
"""
import time

import numpy as np

from hpcrec.fim import engine, mine_itemsets
from hpcrec.fim.result import decoded
from hpcrec.io import load_transactions
from hpcrec.kernels import order


def main() -> None:
    captured = {}

    def spy(recs):
        captured["recs"] = recs
        return decoded(recs)
    engine.decoded = spy
    tx = load_transactions("/tmp/ladder/dense-mushroom.h5")
    mine_itemsets(tx, 0.05, "fpgrowth")
    recs = captured["recs"]
    n = len(recs.rec)
    print("layout", recs.layout, recs.rec.shape, "items", recs.n_items)
    items, ptr, cnt = (np.empty(recs.n_items, np.int32), np.empty(n + 1, np.int64),
                       np.empty(n, np.int64))
    for _ in range(3):
        t = time.perf_counter()
        order.decode(recs.rec, recs.layout, items, ptr, cnt)
        print("decode into touched arrays", round(time.perf_counter() - t, 3))
    for _ in range(2):
        t = time.perf_counter()
        decoded(recs)
        print("decoded into fresh arrays", round(time.perf_counter() - t, 3))
    t = time.perf_counter()
    for size, dtype in ((recs.n_items, np.int32), (n + 1, np.int64), (n, np.int64)):
        np.empty(size, dtype)[:] = 1
    print("first touch of the same sizes", round(time.perf_counter() - t, 3))


if __name__ == "__main__":
    main()
