"""Cost of h5slices._cast's range check: 200M int32 codes (a rank's share of the 100M FIMI
file on 2 ranks) narrowed to uint16 in 8 MiB output blocks, checked vs unchecked, alternated."""
import time

import numpy as np

from hpcrec.io import h5slices

rng = np.random.default_rng(0)
src = rng.integers(0, 1000, 200_000_000, dtype=np.int32)
out = np.empty(4 << 20, np.uint16)       # 8 MiB, as the direct path's buffers
step = len(out)
def run(check):
    t = time.perf_counter()
    for s in range(0, len(src), step):
        part = src[s:s + step]
        if check:
            h5slices._cast(part, 0, out[:len(part)])
        else:
            np.add(part, 0, out=out[:len(part)], casting="unsafe")
    return time.perf_counter() - t
res = {True: [], False: []}
for _ in range(5):
    for c in (False, True):
        res[c].append(run(c))
print({("checked" if c else "unchecked"): round(min(v), 4) for c, v in res.items()})
