"""Biased-MF SGD epoch on an NVIDIA GPU (Numba-CUDA), in the style of cuMF_SGD.

The GPU counterpart of :func:`hpcrec.kernels.mf_sgd.sgd_epoch`: the same update rule
(error measured before the step; ``p += lr (e q - reg p)``, ``q += lr (e p - reg q)`` with
the old ``p``; biases with ``lr_bias``, ``reg_bias``), the same return value (the sum of
squared pre-update errors), but the CPU's conflict-free block schedule is replaced by
lock-free Hogwild updates, as cuMF_SGD does: concurrent updates of one row are rare on
sparse data and harmless to SGD. The factors and biases are read and written at L2
(``ld.global.cg`` / ``st.global.cg``), never through L1: the L1 caches of the SMs are not
coherent, so within one epoch (one launch) an SM could keep reading its own stale copy of a
popular row and overwrite the other SMs' updates. On an H100, BiasedSGD with plain loads
reached test RMSE 0.965 on MovieLens 100K u1 against the CPU kernel's 0.923 (and 0.920
against 0.846 on planted data), while an emulation of Hogwild at the same 235 ratings in
flight, stale by one whole wave, lost only 0.007.

Layout of the work: a *group* of ``lanes`` threads (a warp, or a power-of-two part of one
for small ``d``) updates one rating at a time. Lane ``l`` holds dimensions ``l, l+lanes, ...``
of ``p_u`` and ``q_i``; the dot product is a butterfly of warp shuffles, so every lane has it
without shared memory; lane 0 alone reads and updates the biases (adding them into the
sum), so the lanes of a group never race. Factors are float32 or float16 (storage
only: arithmetic is float32), biases float32.

Order: each epoch visits position ``(stride * k + shift) mod n`` at step ``k``, a fresh
bijection per epoch drawn by :func:`epoch_order` — a reshuffle that costs neither memory
nor a pass over the data. On ratings shuffled once on the device (as the benchmark does)
that is a random order; on the block-sorted slices that the drop-in :func:`sgd_epoch`
gets, the random stride still spreads consecutive steps, and the groups in flight, over
the whole slice.

This module imports Numba-CUDA (which needs no GPU to import); hpcrec imports it only on
the GPU path, never at package import. The CUDA simulator has no warp shuffles, so under
``NUMBA_ENABLE_CUDASIM=1`` the group sum goes through shared memory instead (same
arithmetic, same loop structure); the shuffle version is checked by :func:`compile_ptx`
without a GPU and by the ``gpu``-marked tests on one.
"""
from __future__ import annotations

import hashlib
import math
from contextlib import contextmanager
from functools import lru_cache
from types import SimpleNamespace

import numpy as np
from numba import cuda, float32, float64, int64  # a module global: the simulator swaps ``cuda`` there

from .protocols import BlockedRatings, Factors, SgdRates

THREADS = 256      # threads per block on a GPU: 8 warps
FACTOR_DTYPES = (np.float32, np.float16)


def lanes_for(d: int) -> int:
    """Lanes per rating: the smallest power of two >= d, at most a warp (32)."""
    if d <= 0:
        raise ValueError("the number of factors must be positive")
    return min(32, 1 << (d - 1).bit_length())


def epoch_order(n: int, rng: np.random.Generator) -> tuple[int, int]:
    """A random bijection ``k -> (stride * k + shift) mod n`` of the ratings, as (stride, shift)."""
    if n <= 1:
        return 1, 0
    while True:
        stride = int(rng.integers(1, n))
        if math.gcd(stride, n) == 1:
            return stride, int(rng.integers(0, n))


def _simulated() -> bool:
    from numba import config
    return bool(config.ENABLE_CUDASIM)


@lru_cache(maxsize=2)
def _kernel(simulated: bool):
    """The epoch kernel; the group sum is a shuffle butterfly, or shared memory under the
    simulator, where the factors are also read and written by plain indexing."""
    if simulated:
        @cuda.jit(device=True)
        def group_sum(v, lanes):
            buf = cuda.shared.array(1024, float32)
            t = cuda.threadIdx.x
            buf[t] = v
            cuda.syncthreads()
            s = float32(0.0)
            for lane in range(t - t % lanes, t - t % lanes + lanes):
                s += buf[lane]
            cuda.syncthreads()
            return s

        @cuda.jit(device=True)
        def load(a, index):  # the simulator has no cache-hinted loads (nor caches)
            return a[index]

        @cuda.jit(device=True)
        def store(a, index, value):
            a[index] = value
    else:
        # Loads and stores of the shared factor rows at L2, past the SMs' non-coherent L1.
        load, store = cuda.ldcg, cuda.stcg

        @cuda.jit(device=True, inline=True)
        def group_sum(v, lanes):
            # The lanes of a block's only, partial warp (tiny launches) or the whole warp.
            width = min(cuda.blockDim.x, 32)
            mask = 0xFFFFFFFF if width == 32 else (1 << width) - 1
            off = lanes >> 1
            while off > 0:
                v += cuda.shfl_xor_sync(mask, v, off)
                off >>= 1
            return v

    @cuda.jit
    def epoch_kernel(ratings, factors, rates, order, sse):
        """One Hogwild pass: ``ratings`` (user, item, rating), ``factors`` (:class:`Factors`),
        ``rates`` (:class:`SgdRates`, float32), ``order`` (stride, shift, lanes); adds the
        squared errors to ``sse[0]``."""
        user, item, rating = ratings
        P, Q, bu, bi = factors
        mu, lr, lr_bias, reg, reg_bias = rates
        stride, shift, lanes = order
        n = rating.shape[0]
        d = P.shape[1]
        tid = cuda.grid(1)
        lane = tid % lanes
        group = tid // lanes
        n_groups = cuda.gridsize(1) // lanes
        acc = float32(0.0)
        # Step k = r * n_groups + group visits j = (stride * k + shift) mod n, advanced by
        # addition (no division in the loop). Every thread runs the same number of rounds,
        # so all lanes of a warp meet at each shuffle (in the simulator: at each barrier).
        j = (stride * group + shift) % n
        step = (stride * n_groups) % n
        for r in range((n + n_groups - 1) // n_groups):
            valid = r * n_groups + group < n
            u = 0
            i = 0
            dot = float32(0.0)
            if valid:
                u = int64(user[j])  # one index type for the cache-hinted loads' tuples
                i = int64(item[j])
                if lane == 0:  # only lane 0 touches the biases: no race inside a group
                    dot = load(bu, u) + load(bi, i)
                for f in range(lane, d, lanes):
                    dot += float32(load(P, (u, f))) * float32(load(Q, (i, f)))
            dot = group_sum(dot, lanes)
            if valid:
                err = rating[j] - (mu + dot)
                for f in range(lane, d, lanes):
                    p = float32(load(P, (u, f)))
                    q = float32(load(Q, (i, f)))
                    store(P, (u, f), p + lr * (err * q - reg * p))
                    store(Q, (i, f), q + lr * (err * p - reg * q))
                if lane == 0:
                    b = load(bu, u)
                    store(bu, u, b + lr_bias * (err - reg_bias * b))
                    b = load(bi, i)
                    store(bi, i, b + lr_bias * (err - reg_bias * b))
                    acc += err * err
            j += step
            if j >= n:
                j -= n
        if lane == 0:
            cuda.atomic.add(sse, 0, float64(acc))

    return epoch_kernel


def default_groups(lanes: int, n_user_rows: int, n_item_rows: int) -> int:
    """Ratings in flight at once: enough to fill the GPU (every SM at full occupancy), but
    at most a quarter of the smaller side's rows, so that concurrent updates of one row
    stay rare on small data sets (Hogwild's assumption)."""
    sms = getattr(cuda.get_current_device(), "MULTIPROCESSOR_COUNT", None) or 1
    return max(1, min(sms * 2048 // lanes, min(n_user_rows, n_item_rows) // 4))


def sgd_hogwild(ratings, factors: Factors, rates: SgdRates, stride: int = 1, shift: int = 0,
                groups: int | None = None, threads: int = THREADS) -> float:
    """One Hogwild SGD pass over all given ratings; returns the sum of squared errors.

    All arrays are on the device (CuPy or Numba arrays; NumPy arrays are copied there and
    back by Numba): ``ratings`` = (user, item (int32), rating (float32)); ``factors``: P, Q
    (rows x d, float32 or float16) and bu, bi (float32), updated in place. Step k visits
    rating ``(stride * k + shift) mod n`` (see :func:`epoch_order`). ``groups`` ratings are
    in flight at once (default :func:`default_groups`); ``groups=1`` is the sequential order.
    The packs go to the kernel as they are: Numba-CUDA passes a tuple argument as its
    flattened fields, so the launch costs what the flat list did.
    """
    user, item, rating = ratings
    P, Q = factors.P, factors.Q
    if P.dtype not in FACTOR_DTYPES or Q.dtype != P.dtype:
        raise ValueError("P and Q must both be float32 or both float16")
    n = rating.shape[0]
    if n == 0:
        return 0.0
    lanes = lanes_for(P.shape[1])
    if groups is None:
        groups = default_groups(lanes, P.shape[0], Q.shape[0])
    total = groups * lanes
    threads = min(threads, total)
    if threads % lanes:
        raise ValueError("threads per block must be a multiple of the lanes per rating")
    sse = cuda.to_device(np.zeros(1, np.float64))
    _kernel(_simulated())[-(-total // threads), threads](
        (user, item, rating), Factors(*factors), SgdRates(*(np.float32(x) for x in rates)),
        (np.int64(stride), np.int64(shift), np.int64(lanes)), sse)
    return float(sse.copy_to_host()[0])


def sgd_epoch(ratings: BlockedRatings, rounds, factors: Factors, rates: SgdRates) -> float:
    """Drop-in for :func:`hpcrec.kernels.mf_sgd.sgd_epoch` (same arguments, same result).

    Updates the ratings of the blocks listed in ``rounds`` (a DSGD sub-epoch) with Hogwild
    instead of the CPU's conflict-free rounds: each maximal run of consecutive block ids is
    one contiguous slice of the ratings and one kernel launch, in a random order drawn from
    a hash of ``rounds`` (the caller's seeded schedule, so runs are reproducible). NumPy
    arguments are copied to the GPU and the factors back, every call; callers that keep
    the arrays on the device (CuPy) avoid those copies.
    """
    blocks = np.unique(np.asarray(rounds)[np.asarray(rounds) >= 0])
    if len(blocks) == 0:
        return 0.0
    user, item, rating, block_ptr = ratings
    ptr = np.asarray(block_ptr)
    cuts = np.flatnonzero(np.diff(blocks) != 1) + 1
    seed = int.from_bytes(hashlib.blake2b(np.ascontiguousarray(rounds).tobytes(),
                                          digest_size=8).digest(), "little")
    rng = np.random.default_rng(seed)
    state = [_device(a) for a in factors]
    sse = 0.0
    for run in np.split(blocks, cuts):
        lo, hi = int(ptr[run[0]]), int(ptr[run[-1] + 1])
        if hi > lo:
            stride, shift = epoch_order(hi - lo, rng)
            sse += sgd_hogwild(tuple(_device(a[lo:hi])[0] for a in (user, item, rating)),
                               Factors(*(dev for dev, _ in state)), rates, stride, shift)
    for (dev, copied), host in zip(state, factors):
        if copied:
            dev.copy_to_host(host)
    return sse


def _device(a):
    """(device array, whether it was copied from the host) for a NumPy or CUDA array."""
    if isinstance(a, np.ndarray):
        return cuda.to_device(np.ascontiguousarray(a)), True
    return a, False


def compile_ptx(cc: tuple[int, int] = (9, 0), d_dtype=np.float32) -> str:
    """PTX of the real (shuffle) kernel for compute capability ``cc``, without a GPU.

    Needs NVVM (``pip install numba-cuda[cu12]``) and the simulator off. Used by the
    compile-only test, so a kernel that would not build on a GPU fails in CI.
    """
    from numba import int32
    from numba.core import types
    fac = types.Array(types.float16 if d_dtype == np.float16 else float32, 2, "C")
    vec = types.Array(float32, 1, "C")
    idx = types.Array(int32, 1, "C")
    sig = (types.Tuple((idx, idx, vec)), types.NamedTuple((fac, fac, vec, vec), Factors),
           types.NamedUniTuple(float32, 5, SgdRates), types.UniTuple(int64, 3),
           types.Array(float64, 1, "C"))
    with _stand_in_device(cc):
        ptx, _ = cuda.compile_ptx(_kernel(False).py_func, sig, cc=cc)
    return ptx


@contextmanager
def _stand_in_device(cc: tuple[int, int]):
    """numba-cuda compiles the cache-hint overloads (``cuda.ldcg``) for the *current* device,
    also under ``compile_ptx``: without a GPU, let it see one of compute capability ``cc``."""
    if cuda.is_available():
        yield
        return
    from numba.cuda import dispatcher
    real = dispatcher.get_current_device
    dispatcher.get_current_device = lambda: SimpleNamespace(compute_capability=cc)
    try:
        yield
    finally:
        dispatcher.get_current_device = real
