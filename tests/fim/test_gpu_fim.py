"""GPU support counting (Numba-CUDA bitset AND + popcount): exact counts, same itemsets as the CPU.

Runs on the CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``, set by scripts/test.sh) with tiny
inputs, and on a real GPU under ``-m gpu``.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from hpcrec.core.comm import serial
from hpcrec.core.context import RunContext
from hpcrec.core.memory import Guard
from hpcrec.core.timing import Timer
from hpcrec.fim import apriori as fim_apriori
from hpcrec.fim.control import Control
from hpcrec.fim.prepare import prepare
from hpcrec.io import load_transactions
from hpcrec.kernels.csr import csr

numba = pytest.importorskip("numba")
SIMULATOR = bool(numba.config.ENABLE_CUDASIM)


def cuda_usable() -> bool:
    try:
        from numba import cuda
        return cuda.is_available()
    except Exception:  # noqa: BLE001 - no numba-cuda, no driver
        return False


needs_cuda = pytest.mark.skipif(not cuda_usable(), reason="no CUDA device and NUMBA_ENABLE_CUDASIM unset")


def tiny(seed: int, rows: int = 70, items: int = 6):
    rng = np.random.default_rng(seed)
    X = rng.random((rows, items)) < rng.uniform(0.3, 0.8, size=items)
    ptr = np.concatenate(([0], np.cumsum(X.sum(1)))).astype(np.int64)
    return X, ptr, np.nonzero(X)[1].astype(np.int32)


@needs_cuda
@pytest.mark.parametrize("seed", [0, 1])
def test_bitset_kernel_counts_exactly(seed):
    from hpcrec.kernels.support_cuda import BitsetCounter
    X, ptr, idx = tiny(seed)
    counter = BitsetCounter(csr(ptr, idx), 6, threads=4)
    for k in (1, 2, 3):
        rows = np.array([c for c in itertools.combinations(range(6), k)][:4], dtype=np.int32)
        expected = [int(X[:, list(r)].all(axis=1).sum()) for r in rows]
        assert counter.count_rows(rows).tolist() == expected
    assert counter.count_rows(np.zeros((0, 2), np.int32)).shape == (0,)


@needs_cuda
def test_apriori_gpu_path_equals_cpu(monkeypatch):
    import hpcrec.kernels.support_cuda as sc
    from hpcrec.fim import count_distribution
    monkeypatch.setattr(sc, "THREADS", 4)
    X, ptr, idx = tiny(2, rows=40, items=5)
    rows = [np.flatnonzero(r).tolist() for r in X]
    tx = load_transactions(rows, serial())
    results = {}
    for device in ("cpu", "gpu"):
        comm = serial()
        prep = prepare(tx, 0.1, comm, Control(RunContext.build(comm)))   # frequent triples
        levels, counts, _, partial, _ = count_distribution.mine(
            prep, None, comm, device, Control(RunContext.build(comm)), Timer(comm), Guard())
        results[device] = [(f.tolist(), c.tolist()) for f, c in zip(levels, counts)]
        assert not partial
    assert results["gpu"] == results["cpu"] and len(results["cpu"]) >= 3


@pytest.mark.gpu
@pytest.mark.skipif(SIMULATOR or not cuda_usable(), reason="needs a real CUDA GPU")
def test_real_gpu_t10(shared_data):
    src = shared_data / "fim" / "T10I4D100K.dat"
    cpu = fim_apriori(src, 0.005, comm=serial())
    gpu = fim_apriori(src, 0.005, comm=serial(), device="gpu")
    assert dict(zip(cpu.itemsets, cpu.support)) == dict(zip(gpu.itemsets, gpu.support))


@needs_cuda
@pytest.mark.mpi
def test_apriori_gpu_path_under_mpi_equals_serial_cpu(monkeypatch):
    """One (simulated) GPU per rank: every rank counts its slice on its device, the counts
    meet in the host Allreduce; the itemsets equal the serial CPU run's."""
    import hpcrec.kernels.support_cuda as sc
    from hpcrec.core.comm import world
    from hpcrec.fim import count_distribution
    monkeypatch.setattr(sc, "THREADS", 4)
    X, ptr, idx = tiny(3, rows=40, items=5)
    rows = [np.flatnonzero(r).tolist() for r in X]
    results = {}
    for device, comm in (("cpu", serial()), ("gpu", world())):
        prep = prepare(load_transactions(rows, comm), 0.2, comm, Control(RunContext.build(comm)))
        levels, counts, _, _, _ = count_distribution.mine(
            prep, None, comm, device, Control(RunContext.build(comm)), Timer(comm), Guard())
        results[device] = [(prep.order[f].tolist(), comm.allgatherv(c).tolist())   # rank shares
                           for f, c in zip(levels, counts)]
    assert results["gpu"] == results["cpu"] and len(results["cpu"]) >= 3


@needs_cuda
@pytest.mark.parametrize("items", [2, 3, 7])
def test_pair_kernel_counts_every_pair_in_triangle_order(items):
    """Level 2 on the device: block c decodes pair c; the vector equals the CPU's."""
    from hpcrec.kernels.support import add_pair_counts, n_pairs
    from hpcrec.kernels.support_cuda import BitsetCounter
    X, ptr, idx = tiny(4, rows=70, items=items)
    expected = np.zeros(n_pairs(items), np.int64)
    add_pair_counts(ptr, idx, items, expected)
    got = np.zeros_like(expected)
    BitsetCounter(csr(ptr, idx), items, threads=4).count_pairs(got)
    np.testing.assert_array_equal(got, expected)
    assert expected.sum() > 0


@pytest.mark.skipif(not SIMULATOR, reason="the device function runs as Python only under the simulator")
def test_pair_decoding_at_scale():
    """The device function's formula and corrections, on the host (plain Python) for
    triangles far larger than the simulator can count: every 997th position and the ends."""
    from hpcrec.kernels import support_cuda
    from hpcrec.kernels.support import pair_index
    decode = support_cuda.pair_of.py_func
    for m in (2, 3, 1000, 65_536):
        size = m * (m - 1) // 2
        for c in sorted({0, 1 % size, size - 1, *range(0, size, max(1, size // 997))}):
            a, b = decode(c, m)
            assert 0 <= a < b < m and pair_index(a, b, m) == c, (m, c, a, b)
