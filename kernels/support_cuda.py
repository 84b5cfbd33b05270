"""Support counting on an NVIDIA GPU (Numba-CUDA): bitset AND + popcount, one launch per level.

The vertical bitsets of the frequent items (one row of 64-bit words per item, see
:func:`hpcrec.kernels.support.bitsets`) stay on the device for the whole run. For a level,
all candidates (an (nc, k) array of item ids) go to the device at once; one thread block
per candidate walks the words, ANDs the k item rows, popcounts, and reduces the block's
partial sums in shared memory. Counts come back as int64.

This module imports Numba-CUDA, so hpcrec imports it only when a GPU count is asked for
(importing hpcrec never needs CUDA); under ``NUMBA_ENABLE_CUDASIM=1`` the same kernel runs
on the simulator (tests keep inputs tiny there).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from numba import cuda, int64, uint64

THREADS = 128  # per block; a power of two for the tree reduction


@lru_cache(maxsize=None)
def _kernel(threads: int):
    @cuda.jit
    def count_and_popc(bits, cand, out):
        c = cuda.blockIdx.x
        t = cuda.threadIdx.x
        k = cand.shape[1]
        words = bits.shape[1]
        partial = cuda.shared.array(threads, int64)
        acc = int64(0)
        w = t
        while w < words:
            v = bits[cand[c, 0], w]
            for j in range(1, k):
                v &= bits[cand[c, j], w]
            acc += cuda.popc(uint64(v))
            w += threads
        partial[t] = acc
        cuda.syncthreads()
        step = threads // 2
        while step > 0:
            if t < step:
                partial[t] += partial[t + step]
            cuda.syncthreads()
            step //= 2
        if t == 0:
            out[c] = partial[0]

    return count_and_popc


class BitsetCounter:
    """Candidate support counts on the GPU for one rank's transactions.

    Built once from the recoded CSR rows (the bitsets are made on the host, copied once);
    :meth:`count` is one kernel launch for all candidates of a level.
    """

    def __init__(self, bits: np.ndarray, threads: int = THREADS):
        if threads <= 0 or threads & (threads - 1):
            raise ValueError("threads per block must be a power of two")
        self._threads = threads
        self._bits = cuda.to_device(np.ascontiguousarray(bits, dtype=np.uint64))

    def count(self, candidates: np.ndarray) -> np.ndarray:
        """Local support of each row of ``candidates`` ((nc, k) item ids)."""
        cand = np.ascontiguousarray(candidates, dtype=np.int32)
        nc = cand.shape[0]
        if nc == 0:
            return np.zeros(0, np.int64)
        out = cuda.device_array(nc, dtype=np.int64)
        _kernel(self._threads)[nc, self._threads](self._bits, cuda.to_device(cand), out)
        return out.copy_to_host()
