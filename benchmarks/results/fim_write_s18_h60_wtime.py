"""Time write_itemsets on a saved result (fim_write_s18_h60_dump.py's), REPEATS times in one
process (rep 0 is a fresh process's first write, as in ``hpcrec mine``); under mpiexec each
rank writes its contiguous block of the first NSETS itemsets, as result_on="blocks" leaves
them. Rank 0 prints each rank's wall and CPU seconds; the last file is kept.

    python fim_write_s18_h60_wtime.py NPZ OUTDIR NSETS REPEATS
"""
import os
import pickle
import sys
import time

import numpy as np

from hpcrec.core.comm import world
from hpcrec.fim.result import Itemsets
from hpcrec.io.results import write_itemsets

npz, outdir, nsets, reps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
comm = world()
d = np.load(npz)
with open(npz + ".pkl", "rb") as fh:
    meta = pickle.load(fh)
ptr = d["ptr"]
nsets = min(nsets, len(ptr) - 1)
lo, hi = nsets * comm.rank // comm.size, nsets * (comm.rank + 1) // comm.size
items = np.array(d["items"][ptr[lo]:ptr[hi]])
res = Itemsets(items, ptr[lo:hi + 1] - ptr[lo], np.array(d["counts"][lo:hi]), meta["n"], d["labels"],
               meta["partial"], meta["levels"], meta["info"])
out = os.path.join(outdir, "w.h5")
for r in range(reps):
    comm.barrier()
    t0, c0 = time.perf_counter(), time.process_time()
    write_itemsets(out, res, comm)
    ws = comm.allgather_obj((time.perf_counter() - t0, time.process_time() - c0))
    if comm.is_root:
        ranks = " ".join(f"r{i} wall {a:.3f} cpu {b:.3f}" for i, (a, b) in enumerate(ws))
        print(f"rep {r} size {os.path.getsize(out) / 1e6:.0f}MB {ranks}", flush=True)
        if r < reps - 1:
            os.unlink(out)
