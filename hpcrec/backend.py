"""Device choice and the array module: ``cpu`` (NumPy + Numba) or ``gpu`` (CuPy + Numba-CUDA).

Algorithms ask :func:`resolve_device` once, then write their array code against the
module :func:`array_module` returns, so the CuPy path runs as NumPy in CI. Each MPI rank
takes the GPU of its node-local rank among the visible ones. Importing hpcrec never
needs CUDA: CuPy is imported only when a GPU is asked for. Holds no algorithm logic.
"""
from __future__ import annotations

import logging
import os
import warnings
from functools import lru_cache

import numpy as np

from .errors import DeviceError

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


def resolve_device(device: str = "cpu", comm=None) -> str:
    """Turn ``cpu|gpu|auto`` into ``cpu`` or ``gpu``, binding this rank to its GPU.

    ``auto`` falls back to the CPU with one warning; ``gpu`` without a usable GPU is a
    :class:`DeviceError`.
    """
    if device not in DEVICES:
        raise DeviceError(f"unknown device {device!r}: choose one of {', '.join(DEVICES)}")
    if device == "cpu":
        return "cpu"
    if not gpu_available():
        if device == "gpu":
            raise DeviceError("device 'gpu' requested but no CUDA GPU with CuPy is usable here "
                              "(install hpcrec[gpu] on a GPU node, or use --device cpu)")
        _warn_once("no usable CUDA GPU (or CuPy missing): device 'auto' runs on the CPU")
        return "cpu"
    select_gpu(comm)
    return "gpu"


@lru_cache(maxsize=None)
def _warn_once(message: str) -> None:
    warnings.warn(message, RuntimeWarning, stacklevel=3)


def gpu_for_local_rank(local_rank: int, n_visible: int) -> int:
    """Index (among the visible devices) of the GPU that a node-local rank uses."""
    if n_visible <= 0:
        raise DeviceError("no GPU visible to this rank")
    return local_rank % n_visible


@lru_cache(maxsize=1)
def select_gpu(comm=None) -> int:
    """Bind this process to the GPU of its node-local rank; log the mapping once (rank 0).

    ``CUDA_VISIBLE_DEVICES`` is honoured by CUDA itself: indices here are among the
    visible devices. ``SLURM_LOCALID`` is used when there is no communicator.
    """
    from .comm import resolve
    cp = _cupy()
    if cp is None:
        raise DeviceError("no usable CUDA GPU")
    comm = resolve(comm)
    local = comm.local_rank if comm.size > 1 else int(os.environ.get("SLURM_LOCALID", 0))
    dev = gpu_for_local_rank(local, cp.cuda.runtime.getDeviceCount())
    cp.cuda.Device(dev).use()
    mapping = comm.gather_obj((comm.rank, os.uname().nodename, local, dev,
                               os.environ.get("CUDA_VISIBLE_DEVICES", "all")))
    if comm.is_root:
        for rank, host, lr, d, vis in mapping:
            log.info("rank %d on %s (local rank %d) -> GPU %d (CUDA_VISIBLE_DEVICES=%s)",
                     rank, host, lr, d, vis)
    return dev


def array_module(device: str):
    """``numpy`` for the CPU, ``cupy`` for the GPU: the one seam between the two paths."""
    if device == "gpu":
        cp = _cupy()
        if cp is None:
            raise DeviceError("no usable CUDA GPU")
        return cp
    return np


def to_host(x) -> np.ndarray:
    """A NumPy array from a NumPy or CuPy array (synchronising the stream first)."""
    if isinstance(x, np.ndarray):
        return x
    get = getattr(x, "get", None)
    return get() if get is not None else np.asarray(x)
