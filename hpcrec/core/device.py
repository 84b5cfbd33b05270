"""Device choice and the array module: ``cpu`` (NumPy + Numba) or ``gpu`` (CuPy + Numba-CUDA).

Algorithms ask :func:`resolve_device` once, then write their array code against the
module :func:`array_module` returns, so the CuPy path runs as NumPy in CI. Each MPI rank
takes the GPU of its node-local rank among the visible ones, and on the CPU its share of
the node's cores (:func:`share_cores`). Importing hpcrec never needs CUDA: CuPy is
imported only when a GPU is asked for. Device names are checked here only
(:func:`check_device`). Holds no algorithm logic.
"""
from __future__ import annotations

import logging
import os
import warnings
from functools import lru_cache

import numpy as np

from ..kernels.arrays import sparse_module, to_host  # noqa: F401 - re-exported
from .errors import DeviceError, UnknownDevice

DEVICES = ("cpu", "gpu", "auto")
log = logging.getLogger("hpcrec")


@lru_cache(maxsize=1)
def _cupy():
    """CuPy if importable and a CUDA device is usable, else None."""
    try:
        import cupy
        if cupy.cuda.runtime.getDeviceCount() > 0:
            return cupy
    except Exception:  # noqa: BLE001 - no CuPy, no driver, no device: all mean "no GPU"
        return None
    return None


def gpu_available() -> bool:
    return _cupy() is not None


def check_device(device) -> str:
    """``device`` if it names a device (``cpu``, ``gpu``, ``auto``): the one check of device names."""
    if not isinstance(device, str) or device not in DEVICES:
        raise UnknownDevice(f"unknown device {device!r}: choose one of {', '.join(DEVICES)}")
    return device


def resolve_device(device: str = "cpu", comm=None) -> str:
    """Turn ``cpu|gpu|auto`` into ``cpu`` or ``gpu``, binding this rank to its GPU.

    ``auto`` falls back to the CPU with one warning; ``gpu`` without a usable GPU is a
    :class:`DeviceError`, raised on every rank together (one message for the job).
    Collective: call on every rank of ``comm``.
    """
    from .comm import resolve
    comm = resolve(comm)
    with comm.collective_errors():
        check_device(device)
        usable = device != "cpu" and gpu_available()
        if device == "gpu" and not usable:
            raise DeviceError("device 'gpu' requested but no CUDA GPU with CuPy is usable here "
                              "(install hpcrec[gpu] on a GPU node, or use --device cpu)")
    if device == "cpu":
        return "cpu"
    if not usable:
        _warn_once("no usable CUDA GPU (or CuPy missing): device 'auto' runs on the CPU")
        return "cpu"
    select_gpu(comm)
    return "gpu"


@lru_cache(maxsize=None)
def _warn_once(message: str) -> None:
    warnings.warn(message, RuntimeWarning, stacklevel=3)


# -- CPU threads per rank -----------------------------------------------------------------

def share_cores(comm=None) -> int:
    """Give each rank its share of the node's cores for Numba's threads; return the count.

    Ranks on one node would otherwise each start a thread per core and oversubscribe it.
    An explicit ``NUMBA_NUM_THREADS`` is respected. Cheap to call again.
    """
    import numba

    from .comm import resolve
    comm = resolve(comm)
    if "NUMBA_NUM_THREADS" not in os.environ and comm.local_size > 1:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        numba.set_num_threads(max(1, min(numba.config.NUMBA_NUM_THREADS, cores // comm.local_size)))
    return numba.get_num_threads()


# -- one GPU per rank -----------------------------------------------------------------------

def gpu_for_local_rank(local_rank: int, n_visible: int) -> int:
    """Index (among the visible devices) of the GPU that a node-local rank uses."""
    if n_visible <= 0:
        raise DeviceError("no GPU visible to this rank")
    return local_rank % n_visible


def node_local_rank(comm) -> int:
    """This process's rank on its node: from the shared-memory split of the communicator,
    or, for a single-rank communicator, from the launcher (``SLURM_LOCALID``,
    ``OMPI_COMM_WORLD_LOCAL_RANK``, ``MPI_LOCALRANKID``), else 0."""
    if comm.size > 1:
        return comm.local_rank
    for var in ("SLURM_LOCALID", "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID"):
        value = os.environ.get(var, "")
        if value.isdigit():
            return int(value)
    return 0


def visible_gpu_name(index: int, visible: str | None) -> str:
    """How ``CUDA_VISIBLE_DEVICES`` names visible device ``index`` (an ordinal or a UUID)."""
    if not visible:
        return str(index)
    names = [v.strip() for v in visible.split(",") if v.strip()]
    return names[index] if index < len(names) else str(index)


@lru_cache(maxsize=1)
def select_gpu(comm=None) -> int:
    """Bind this process to the GPU of its node-local rank; log the mapping once (rank 0).

    ``CUDA_VISIBLE_DEVICES`` is honoured by CUDA itself: indices here are among the
    visible devices, and the log shows the name each has in that list. More ranks on a
    node than visible GPUs share them round-robin, with a warning.
    """
    from .comm import resolve
    cp = _cupy()
    if cp is None:
        raise DeviceError("no usable CUDA GPU")
    comm = resolve(comm)
    local = node_local_rank(comm)
    n_visible = cp.cuda.runtime.getDeviceCount()
    dev = gpu_for_local_rank(local, n_visible)
    cp.cuda.Device(dev).use()
    _bind_numba(dev)
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    mapping = comm.gather_obj((comm.rank, os.uname().nodename, local, dev,
                               visible_gpu_name(dev, visible), n_visible))
    if comm.is_root:
        for rank, host, lr, d, name, n in mapping:
            log.info("rank %d on %s (local rank %d) -> GPU %d of %d visible (device %s)",
                     rank, host, lr, d, n, name)
        shared = [m for m in mapping if m[2] >= m[5]]
        if shared:
            log.warning("%d rank(s) share a GPU with another rank (more ranks than GPUs on "
                        "a node)", len(shared))
    return dev


def _bind_numba(dev: int) -> None:
    """Make ``dev`` Numba-CUDA's device too (its kernels share CuPy's arrays), if installed."""
    try:
        from numba import cuda
    except ImportError:
        return
    cuda.select_device(dev)


def kernel(family: str, device: str):
    """The implementation of kernel ``family`` for a resolved ``device``
    (:func:`hpcrec.kernels.get`); a device without one is a :class:`DeviceError`."""
    from .. import kernels
    try:
        return kernels.get(family, device)
    except kernels.KernelMissing as exc:
        raise DeviceError(str(exc)) from None


def array_module(device: str):
    """``numpy`` for the CPU, ``cupy`` for the GPU: the one seam between the two paths."""
    if device == "gpu":
        cp = _cupy()
        if cp is None:
            raise DeviceError("no usable CUDA GPU")
        return cp
    return np


