"""Session 15 record. Usage: python sgd_hogwild_wave_emulation.py G ML100K_DIR (G = 0: the CPU
kernel itself). Emulates the GPU Hogwild kernel's worst case: G ratings read the factors, then all write
(last writer wins on a shared row). Compare BiasedSGD test RMSE on ml-100k u1 to the CPU kernel."""
import hashlib
import sys

import numpy as np

from hpcrec import kernels
from hpcrec.core.comm import serial
from hpcrec.kernels import mf_sgd_cuda as K
from hpcrec.mf import BiasedSGD

G = int(sys.argv[1])

def wave_epoch(ratings, rounds, factors, rates):
    blocks = np.unique(np.asarray(rounds)[np.asarray(rounds) >= 0])
    user, item, rating, ptr = ratings
    P, Q, bu, bi = factors
    mu, lr, lrb, reg, regb = (np.float32(x) for x in rates)
    seed = int.from_bytes(hashlib.blake2b(np.ascontiguousarray(rounds).tobytes(), digest_size=8).digest(), "little")
    rng = np.random.default_rng(seed)
    cuts = np.flatnonzero(np.diff(blocks) != 1) + 1
    sse = 0.0
    for run in np.split(blocks, cuts):
        lo, hi = int(ptr[run[0]]), int(ptr[run[-1] + 1])
        n = hi - lo
        if n == 0:
            continue
        stride, shift = K.epoch_order(n, rng)
        order = lo + (stride * np.arange(n, dtype=np.int64) + shift) % n
        for s in range(0, n, G):
            j = order[s:s + G]
            u, i, r = user[j], item[j], rating[j]
            p, q = P[u].copy(), Q[i].copy()
            err = r - (mu + bu[u] + bi[i] + np.einsum("ij,ij->i", p, q))
            P[u] = p + lr * (err[:, None] * q - reg * p)
            Q[i] = q + lr * (err[:, None] * p - reg * q)
            bu[u] = bu[u] + lrb * (err - regb * bu[u])
            bi[i] = bi[i] + lrb * (err - regb * bi[i])
            sse += float(err @ err)
    return sse

base, test = (f"{sys.argv[2]}/u1.{part}" for part in ("base", "test"))
kw = dict(factors=64, epochs=25, seed=0)
if G > 0:
    kernels.TABLE[("sgd", "cpu")] = wave_epoch
m = BiasedSGD(device="cpu", **kw).fit(base, serial(), test=test)
print(G, m.history[-1]["train_rmse"], m.history[-1]["test_rmse"])
