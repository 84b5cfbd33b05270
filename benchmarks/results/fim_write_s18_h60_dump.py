"""Mine one case on one rank and save the result's arrays (for the write-only timings of
fim_write_s18_h60_wtime.py): python fim_write_s18_h60_dump.py DATA SUPPORT ALGORITHM OUT.npz"""
import pickle
import sys

import numpy as np

from hpcrec.fim import mine_itemsets

data, sup, alg, out = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
res = mine_itemsets(data, sup, alg)
np.savez(out, items=res.items, ptr=res.ptr, counts=res.counts, labels=np.asarray(res.labels))
with open(out + ".pkl", "wb") as fh:
    pickle.dump({"n": res.n_transactions, "info": res.info, "levels": res.levels, "partial": res.partial}, fh)
print(len(res), len(res.items), res.items.dtype, len(res.labels), np.asarray(res.labels).dtype)
