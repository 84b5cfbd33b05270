"""Device selection and rank -> GPU mapping.

No GPU is needed: a fake CuPy stands in for the device count and binding, and a child
process with CuPy and Numba-CUDA blocked checks that hpcrec imports without them.
"""
from __future__ import annotations

import logging
import subprocess
import sys
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

from hpcrec.core import device as backend
from hpcrec.core.comm import serial, world
from hpcrec.core.errors import DeviceError


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(backend, "_cupy", lambda: None)
    backend._warn_once.cache_clear()


class FakeCupy:
    """Just enough of CuPy for select_gpu: a device count and Device(i).use()."""

    def __init__(self, n_devices):
        self.used = []
        runtime = SimpleNamespace(getDeviceCount=lambda: n_devices)
        self.cuda = SimpleNamespace(runtime=runtime, Device=lambda i: SimpleNamespace(
            use=lambda: self.used.append(i)))


@pytest.fixture
def fake_gpus(monkeypatch):
    """fake_gpus(n) installs a fake CuPy with n visible devices and returns it."""
    def install(n):
        cp = FakeCupy(n)
        monkeypatch.setattr(backend, "_cupy", lambda: cp)
        monkeypatch.setattr(backend, "_bind_numba", lambda dev: cp.used.append(("numba", dev)))
        backend.select_gpu.cache_clear()
        return cp
    yield install
    backend.select_gpu.cache_clear()


# -- device choice ----------------------------------------------------------------------------

def test_cpu_is_cpu_without_warning(no_gpu):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert backend.resolve_device("cpu") == "cpu"
    assert backend.array_module("cpu") is np


def test_auto_falls_back_to_cpu_with_one_warning(no_gpu):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert [backend.resolve_device("auto", serial()) for _ in range(3)] == ["cpu"] * 3
    assert len(caught) == 1 and issubclass(caught[0].category, RuntimeWarning)
    assert "runs on the CPU" in str(caught[0].message)


def test_gpu_without_gpu_is_a_clear_error(no_gpu):
    with pytest.raises(DeviceError, match="no CUDA GPU.*--device cpu"):
        backend.resolve_device("gpu", serial())
    with pytest.raises(DeviceError, match="no usable CUDA GPU"):
        backend.array_module("gpu")
    with pytest.raises(DeviceError, match="unknown device 'tpu'"):
        backend.resolve_device("tpu")


def test_auto_with_a_gpu_binds_it(fake_gpus, monkeypatch):
    monkeypatch.delenv("SLURM_LOCALID", raising=False)
    cp = fake_gpus(2)
    assert backend.resolve_device("auto", serial()) == "gpu"
    assert cp.used == [0, ("numba", 0)]


# -- rank -> GPU mapping ----------------------------------------------------------------------

@pytest.mark.parametrize("local, n, expected", [(0, 1, 0), (3, 1, 0), (0, 4, 0), (3, 4, 3),
                                                (5, 4, 1), (7, 2, 1)])
def test_gpu_for_local_rank(local, n, expected):
    assert backend.gpu_for_local_rank(local, n) == expected


def test_gpu_for_local_rank_needs_a_gpu():
    with pytest.raises(DeviceError, match="no GPU visible"):
        backend.gpu_for_local_rank(0, 0)


def test_node_local_rank_from_communicator_or_launcher(monkeypatch):
    for var in ("SLURM_LOCALID", "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID"):
        monkeypatch.delenv(var, raising=False)
    assert backend.node_local_rank(serial()) == 0
    monkeypatch.setenv("OMPI_COMM_WORLD_LOCAL_RANK", "2")
    assert backend.node_local_rank(serial()) == 2
    monkeypatch.setenv("SLURM_LOCALID", "5")
    assert backend.node_local_rank(serial()) == 5
    monkeypatch.setenv("SLURM_LOCALID", "x")
    assert backend.node_local_rank(serial()) == 2
    assert backend.node_local_rank(SimpleNamespace(size=4, local_rank=3)) == 3


def test_visible_gpu_name():
    assert backend.visible_gpu_name(1, None) == "1"
    assert backend.visible_gpu_name(1, "4,5") == "5"
    assert backend.visible_gpu_name(0, "GPU-8f3c, GPU-11aa") == "GPU-8f3c"
    assert backend.visible_gpu_name(3, "4,5") == "3"


def test_select_gpu_honours_visible_devices_and_logs(fake_gpus, monkeypatch, caplog):
    cp = fake_gpus(2)                                  # CUDA_VISIBLE_DEVICES=4,5: two visible
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,5")
    monkeypatch.setenv("SLURM_LOCALID", "3")
    with caplog.at_level(logging.INFO, logger="hpcrec"):
        assert backend.select_gpu(serial()) == 1
    assert cp.used == [1, ("numba", 1)]
    assert "local rank 3) -> GPU 1 of 2 visible (device 5)" in caplog.text
    assert "share a GPU" in caplog.text                # local rank 3 >= 2 GPUs


@pytest.mark.mpi
def test_ranks_on_a_node_get_distinct_gpus(fake_gpus):
    comm = world()
    cp = fake_gpus(8)
    dev = backend.select_gpu(comm)
    assert cp.used == [dev, ("numba", dev)] and dev == comm.local_rank % 8
    pairs = comm.allgather_obj((comm.local_size, dev))
    assert len({d for _, d in pairs}) == min(len(pairs), 8) or comm.local_size < comm.size


# -- importing without CUDA -------------------------------------------------------------------

IMPORT_WITHOUT_CUDA = r"""
import sys, importlib, pkgutil, warnings
for name in ("cupy", "cupyx", "numba.cuda", "cuda", "cuda.bindings"):
    sys.modules[name] = None          # import of any of these now raises ImportError
import hpcrec, hpcrec.kernels
names = [m.name for pkg in (hpcrec, hpcrec.kernels)
         for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + ".")]
skipped = [n for n in names if n.endswith("_cuda")]
for name in names:
    if name not in skipped and not name.endswith("__main__"):
        importlib.import_module(name)
from hpcrec.core.device import resolve_device
from hpcrec.core.errors import DeviceError
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    assert resolve_device("auto") == "cpu" and resolve_device("auto") == "cpu"
assert len(caught) == 1, caught
try:
    resolve_device("gpu")
except DeviceError as exc:
    print("gpu:", exc)
print("imported", len(names) - len(skipped), "modules")
"""


def test_hpcrec_imports_without_cupy_or_numba_cuda():
    proc = subprocess.run([sys.executable, "-c", IMPORT_WITHOUT_CUDA], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "gpu: device 'gpu' requested but no CUDA GPU" in proc.stdout
