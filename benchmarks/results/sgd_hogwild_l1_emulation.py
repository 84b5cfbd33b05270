"""Session 15 record: why BiasedSGD learned worse on an H100. Emulates the GPU Hogwild kernel on
the CPU: G ratings in flight read the factors, then all write (last writer wins), and each SM
(8 groups a block, blocks round-robin on 132 SMs) keeps the rows it read for the rest of the
launch (an L1 of CAP rows per matrix, LRU) and reads its own copy; CAP = 0 is no L1.

    python sgd_hogwild_l1_emulation.py G CAP ML100K_DIR      # prints G CAP train_rmse test_rmse
"""
import hashlib
import sys
from collections import OrderedDict

import numpy as np

from hpcrec import kernels
from hpcrec.core.comm import serial
from hpcrec.kernels import mf_sgd_cuda as K
from hpcrec.mf import BiasedSGD

G, CAP = int(sys.argv[1]), int(sys.argv[2])
PER_BLOCK, SMS = 8, 132

def epoch(ratings, rounds, factors, rates):
    blocks = np.unique(np.asarray(rounds)[np.asarray(rounds) >= 0])
    user, item, rating, ptr = ratings
    P, Q, bu, bi = factors
    mu, lr, lrb, reg, regb = (np.float32(x) for x in rates)
    seed = int.from_bytes(hashlib.blake2b(np.ascontiguousarray(rounds).tobytes(), digest_size=8).digest(), "little")
    rng = np.random.default_rng(seed)
    lo, hi = int(ptr[blocks[0]]), int(ptr[blocks[-1] + 1])
    n = hi - lo
    stride, shift = K.epoch_order(n, rng)
    order = lo + (stride * np.arange(n, dtype=np.int64) + shift) % n
    caches = {}  # (sm, matrix name) -> LRU of row -> the SM's copy

    def cached(sm, name, M, row, value=None):
        """The SM's copy of M[row] (read from memory on a miss); with value: the SM writes it."""
        c = caches.setdefault((sm, name), OrderedDict())
        if value is not None:
            c[row] = value
        elif row not in c:
            c[row] = M[row].copy()
        c.move_to_end(row)
        out = c[row]
        if len(c) > CAP:
            c.popitem(last=False)
        return out

    sse = 0.0
    for s in range(0, n, G):
        pend = []
        for g, j in enumerate(order[s:s + G]):
            sm = (g // PER_BLOCK) % SMS
            u, i, r = user[j], item[j], rating[j]
            pu, qi = cached(sm, "P", P, u), cached(sm, "Q", Q, i)
            bu_, bi_ = cached(sm, "bu", bu, u), cached(sm, "bi", bi, i)
            err = r - (mu + bu_ + bi_ + pu @ qi)
            pend.append((sm, u, i, pu + lr * (err * qi - reg * pu), qi + lr * (err * pu - reg * qi),
                         bu_ + lrb * (err - regb * bu_), bi_ + lrb * (err - regb * bi_)))
            sse += float(err * err)
        for sm, u, i, pn, qn, bun, bin_ in pend:  # the wave's writes: memory and the writer's L1
            P[u], Q[i], bu[u], bi[i] = pn, qn, bun, bin_
            for name, M, row, v in (("P", P, u, pn), ("Q", Q, i, qn), ("bu", bu, u, bun), ("bi", bi, i, bin_)):
                cached(sm, name, M, row, np.asarray(v, dtype=M.dtype))
    return sse

base, test = (f"{sys.argv[3]}/u1.{part}" for part in ("base", "test"))
kernels.TABLE[("sgd", "cpu")] = epoch
m = BiasedSGD(device="cpu", factors=64, epochs=25, seed=0).fit(base, serial(), test=test)
print(G, CAP, m.history[-1]["train_rmse"], m.history[-1]["test_rmse"])
