"""Sort and decode of FP-Growth's records, the records' sort against one-word mask keys
(session 20, helper h67): captures the records mine_itemsets hands to its sort (chess 0.6 /
0.7, mushroom 0.2 of the ladder in LADDER) and times, in process, best of 21 CPU ms,
``decoded(sorted_records(...))`` against ``keyed_decoded(...)`` on copies of them.

    python fim_s20_h67_sort.py [LADDER]

Runs on the trees of 53524e9 to 8917502 only: session 21 replaced ``keyed_decoded`` with
the mask layout (``hpcrec.fim.result.mask_form``).
"""
import sys
import time

import numpy as np

import hpcrec.fim.engine as E
from hpcrec.core.comm import serial
from hpcrec.fim import mine_itemsets
from hpcrec.fim.result import Records, decoded, keyed_decoded, mask_form, sorted_records
from hpcrec.io import load_transactions

ladder = sys.argv[1] if len(sys.argv) > 1 else "/tmp/ladder"
caught = {}


def grab(recs):
    caught["recs"] = Records(recs.rec.copy(), recs.layout, recs.n_items)
    return sorted_records(recs)


E.mask_form, E.sorted_records = (lambda universe, most: None), grab   # the records' path
for name, support in [("dense-chess", 0.6), ("dense-chess", 0.7), ("dense-mushroom", 0.2)]:
    tx = load_transactions(f"{ladder}/{name}.h5", serial())
    mine_itemsets(tx, support, "fpgrowth", comm=serial())
    recs = caught["recs"]
    universe = np.unique(decoded(sorted_records(Records(recs.rec.copy(), *recs[1:])))[0])
    old = decoded(sorted_records(Records(recs.rec.copy(), *recs[1:])))
    new = keyed_decoded(Records(recs.rec.copy(), *recs[1:]), mask_form(universe, tx.n_total))
    assert all(np.array_equal(a, b) for a, b in zip(old, new))
    best_old = best_new = 1e9
    for _ in range(21):
        r = Records(recs.rec.copy(), *recs[1:])
        t = time.process_time()
        decoded(sorted_records(r))
        best_old = min(best_old, time.process_time() - t)
        r = Records(recs.rec.copy(), *recs[1:])
        t = time.process_time()
        keyed_decoded(r, mask_form(universe, tx.n_total))
        best_new = min(best_new, time.process_time() - t)
    print(f"{name} {support}: {len(recs.rec)} sets, {len(universe)} items: records' sort + decode "
          f"{best_old * 1e3:.2f} ms, keys {best_new * 1e3:.2f} ms ({best_new / best_old:.2f})")
