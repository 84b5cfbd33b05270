"""count_extensions alone (session 19, helper h62; its count_extensions_keeping, which the
one-rank apriori of session 22 no longer uses, was removed then) on T10I4D100K's
items of count >= MINC as level-1 parents, every pair a candidate: best wall and CPU of
REPEAT calls each, in ms. Run it alternately with main (a git archive on PYTHONPATH) and
the branch.

    python fim_s19_h62_micro.py MINC REPEAT LABEL   # LABEL: printed first (base / this)
"""
import sys
import time

import numpy as np

from hpcrec.kernels import support as S

minc, repeat, label = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
with open("/work/shared/data/fim/T10I4D100K.dat") as f:
    rows = [sorted(map(int, line.split())) for line in f]
code = np.full(max(map(max, rows)) + 1, -1)
keep = np.flatnonzero(np.bincount(np.concatenate([np.array(r) for r in rows])) >= minc)
code[keep] = np.arange(len(keep))
recoded = [[code[x] for x in r if code[x] >= 0] for r in rows]
indptr = np.zeros(len(recoded) + 1, np.int64)
indptr[1:] = np.cumsum([len(r) for r in recoded])
indices = np.array([x for r in recoded for x in r], np.int32)
m = len(keep)
ptr, tids = S.vertical(indptr, indices, m)
a, b = np.triu_indices(m, 1)
left, last = a.astype(np.int64), b.astype(np.int32)
calls = {"count": lambda: S.count_extensions(indptr, indices, ptr, tids, left, last, m)}
cells = []
for name, call in calls.items():
    call()
    wall = cpu = float("inf")
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        call()
        wall, cpu = min(wall, time.perf_counter() - t), min(cpu, time.process_time() - c)
    cells.append(f"{name} {wall * 1e3:.2f} {cpu * 1e3:.2f}")
print(label, m, len(left), " ".join(cells), flush=True)
