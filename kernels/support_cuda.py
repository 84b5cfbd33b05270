"""Support counting on an NVIDIA GPU (Numba-CUDA): bitset AND + popcount, one launch per level.

The vertical bitsets of the frequent items (one row of 64-bit words per item, see
:func:`hpcrec.kernels.support.bitsets`) stay on the device for the whole run. For a level,
all candidates (an (nc, k) array of item ids) go to the device at once; one thread block
per candidate walks the words, ANDs the k item rows, popcounts, and reduces the block's
partial sums in shared memory. Level 2 (all item pairs) sends no candidates: block c
decodes its pair from c. Counts come back as int64.

This module imports Numba-CUDA, so hpcrec imports it only when a GPU count is asked for
(importing hpcrec never needs CUDA); under ``NUMBA_ENABLE_CUDASIM=1`` the same kernel runs
on the simulator (tests keep inputs tiny there).
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numba import cuda, float64, int64, uint64

from .csr import Csr
from .protocols import MemoryCheck
from .support import bitset_bytes, bitsets

THREADS = 128  # per block; a power of two for the tree reduction


@lru_cache(maxsize=None)
def _kernels(threads: int):
    """(candidates kernel, pairs kernel) for blocks of ``threads`` threads."""

    @cuda.jit(device=True, inline=True)
    def block_sum(acc):
        """The sum of every thread's ``acc`` (a tree in shared memory), valid in thread 0."""
        t = cuda.threadIdx.x
        partial = cuda.shared.array(threads, int64)
        partial[t] = acc
        cuda.syncthreads()
        step = threads // 2
        while step > 0:
            if t < step:
                partial[t] += partial[t + step]
            cuda.syncthreads()
            step //= 2
        return partial[0]

    @cuda.jit
    def count_and_popc(bits, cand, out):
        c = cuda.blockIdx.x
        k = cand.shape[1]
        acc = int64(0)
        w = cuda.threadIdx.x
        while w < bits.shape[1]:
            v = bits[cand[c, 0], w]
            for j in range(1, k):
                v &= bits[cand[c, j], w]
            acc += cuda.popc(uint64(v))
            w += threads
        total = block_sum(acc)
        if cuda.threadIdx.x == 0:
            out[c] = total

    @cuda.jit
    def pairs_kernel(bits, out):
        """Block c counts the c-th pair (a < b) of the row-major upper triangle: the
        level-2 count vector of :func:`hpcrec.kernels.support.add_pair_counts`, with no
        candidate array."""
        c = cuda.blockIdx.x
        m = bits.shape[0]
        a, b = pair_of(c, m)
        acc = int64(0)
        w = cuda.threadIdx.x
        while w < bits.shape[1]:
            acc += cuda.popc(uint64(bits[a, w] & bits[b, w]))
            w += threads
        total = block_sum(acc)
        if cuda.threadIdx.x == 0:
            out[c] = total

    return count_and_popc, pairs_kernel


@cuda.jit(device=True, inline=True)
def _first(a, m):
    """Position of the pair (a, a + 1): where row a of the upper triangle starts."""
    return a * m - a * (a + 1) // 2


@cuda.jit(device=True, inline=True)
def pair_of(c, m):
    """The pair (a < b) at upper-triangle position c: a from the quadratic formula, then
    corrected by whole rows against rounding."""
    n = 2 * m - 1
    a = int64((n - math.sqrt(float64(n) * n - 8.0 * c)) / 2.0)
    a = max(int64(0), min(a, int64(m - 2)))
    while a > 0 and _first(a, m) > c:
        a -= 1
    while a < m - 2 and _first(a + 1, m) <= c:
        a += 1
    return a, c - _first(a, m) + a + 1


class BitsetCounter:
    """The GPU :class:`~hpcrec.kernels.protocols.SupportCounter` of one rank's rows.

    The item bitsets are made on the host from the rows and copied to the device once;
    a level is one kernel launch for all its candidates. ``dense`` is not used: the GPU
    always counts with bitsets. ``threads`` per block: a power of two.
    """

    def __init__(self, rows: Csr, m: int, dense: bool = True, check: MemoryCheck | None = None,
                 threads: int | None = None):
        threads = THREADS if threads is None else threads
        if threads <= 0 or threads & (threads - 1):
            raise ValueError("threads per block must be a power of two")
        if check is not None:
            check(bitset_bytes(rows, m), f"bitsets of {m} items")
        self._threads = threads
        self._bits = cuda.to_device(bitsets(rows.indptr, rows.indices, m))

    def count(self, parents: np.ndarray, left: np.ndarray, last: np.ndarray) -> np.ndarray:
        return self.count_rows(np.column_stack((parents[left], last)))

    def count_rows(self, candidates: np.ndarray) -> np.ndarray:
        """Local support of each row of ``candidates`` ((nc, k) item ids)."""
        cand = np.ascontiguousarray(candidates, dtype=np.int32)
        nc = cand.shape[0]
        if nc == 0:
            return np.zeros(0, np.int64)
        out = cuda.device_array(nc, dtype=np.int64)
        _kernels(self._threads)[0][nc, self._threads](self._bits, cuda.to_device(cand), out)
        return out.copy_to_host()

    def count_pairs(self, out: np.ndarray) -> None:
        """Add the support of every item pair a < b to ``out`` (upper-triangle order; no
        candidates leave the host: each block decodes its pair)."""
        m = self._bits.shape[0]
        size = m * (m - 1) // 2
        if size == 0:
            return
        dev = cuda.device_array(size, dtype=np.int64)
        _kernels(self._threads)[1][size, self._threads](self._bits, dev)
        out += dev.copy_to_host().astype(out.dtype, copy=False)

    def keep_pairs(self, pairs: np.ndarray, counts: np.ndarray) -> None:
        pass

    def keep(self, mask: np.ndarray) -> None:
        pass

    def next_level(self) -> None:
        pass
