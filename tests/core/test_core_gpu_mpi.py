"""CUDA-aware MPI detection and device_allreduce (hpcrec.core.gpu_mpi), without a GPU:
a fake device array stands in for CuPy arrays (the host-staging path)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from hpcrec.core import gpu_mpi
from hpcrec.core.comm import serial, world

# -- CUDA-aware MPI ---------------------------------------------------------------------------

@pytest.mark.parametrize("env, expected", [
    ({"HPCREC_CUDA_AWARE_MPI": "1"}, True), ({"HPCREC_CUDA_AWARE_MPI": "0", "PSP_CUDA": "1"}, False),
    ({"PSP_CUDA": "1"}, True), ({"MPICH_GPU_SUPPORT_ENABLED": "1"}, True),
    ({"MV2_USE_CUDA": "1"}, True)])
def test_cuda_aware_switches(env, expected, monkeypatch):
    for var in ("HPCREC_CUDA_AWARE_MPI", "PSP_CUDA", "MPICH_GPU_SUPPORT_ENABLED", "MV2_USE_CUDA"):
        monkeypatch.delenv(var, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert gpu_mpi.detect_cuda_aware_mpi() is expected


def test_mpich_wheel_is_not_cuda_aware(monkeypatch):
    """The MPICH wheel of the test venv answers MPIX_Query_cuda_support() with 0."""
    try:
        from mpi4py import MPI
    except (ImportError, RuntimeError) as exc:   # RuntimeError: mpi4py without an MPI library
        pytest.skip(f"no usable mpi4py: {exc}")
    for var in ("HPCREC_CUDA_AWARE_MPI", "PSP_CUDA", "MPICH_GPU_SUPPORT_ENABLED", "MV2_USE_CUDA"):
        monkeypatch.delenv(var, raising=False)
    if "MPICH Version" in MPI.Get_library_version():
        assert gpu_mpi._mpix_query_cuda_support() is False
    assert gpu_mpi.detect_cuda_aware_mpi() is False
    assert gpu_mpi.cuda_aware_mpi(serial()) is False


# -- device_allreduce -------------------------------------------------------------------------

class FakeDeviceArray:
    """A stand-in for a CuPy array: device.synchronize(), get(), set(), nothing else."""

    def __init__(self, host):
        self._data = np.array(host)
        self.syncs = 0
        self.device = SimpleNamespace(synchronize=self._sync)

    def _sync(self):
        self.syncs += 1

    def get(self):
        return self._data.copy()

    def set(self, host):
        self._data[...] = host


class StubComm:
    """Two ranks that record what allreduce is handed; the 'reduction' doubles numbers."""

    size, rank = 2, 0

    def __init__(self):
        self.buffers = []

    def allreduce(self, arr, op="sum"):
        self.buffers.append(arr)
        if isinstance(arr, np.ndarray):
            arr *= 2
        return arr


def test_device_allreduce_stages_through_host(monkeypatch):
    monkeypatch.setenv("HPCREC_CUDA_AWARE_MPI", "0")
    comm = StubComm()
    arr = FakeDeviceArray([1.0, 2.0])
    assert gpu_mpi.device_allreduce(comm, arr) is arr
    assert arr.syncs == 1
    assert all(isinstance(b, np.ndarray) for b in comm.buffers)
    np.testing.assert_array_equal(arr.get(), [2.0, 4.0])


def test_device_allreduce_passes_device_buffer_when_cuda_aware(monkeypatch):
    monkeypatch.setenv("HPCREC_CUDA_AWARE_MPI", "1")
    comm = StubComm()
    arr = FakeDeviceArray([1.0, 2.0])
    gpu_mpi.device_allreduce(comm, arr)
    assert arr.syncs == 1 and comm.buffers[-1] is arr


def test_device_allreduce_serial_and_host_arrays():
    arr = FakeDeviceArray([1.0, 2.0])
    assert gpu_mpi.device_allreduce(serial(), arr) is arr and arr.syncs == 0
    host = np.array([3.0])
    assert gpu_mpi.device_allreduce(serial(), host) is host and host[0] == 3.0


@pytest.mark.mpi
def test_device_allreduce_over_ranks(monkeypatch):
    monkeypatch.delenv("HPCREC_CUDA_AWARE_MPI", raising=False)
    comm = world()
    want = sum(np.arange(4.0) * (r + 1) for r in range(comm.size))
    arr = FakeDeviceArray(np.arange(4.0) * (comm.rank + 1))
    gpu_mpi.device_allreduce(comm, arr)
    np.testing.assert_array_equal(arr.get(), want)
    assert arr.syncs == (1 if comm.size > 1 else 0)
    host = np.arange(4.0) * (comm.rank + 1)
    np.testing.assert_array_equal(gpu_mpi.device_allreduce(comm, host, "sum"), want)
