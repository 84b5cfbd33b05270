"""Device choice and the array module: ``cpu`` (NumPy + Numba) or ``gpu`` (CuPy + Numba-CUDA).

Algorithms ask :func:`resolve_device` once, then write their array code against the
module :func:`array_module` returns, so the CuPy path runs as NumPy in CI. Each MPI rank
takes the GPU of its node-local rank among the visible ones. Importing hpcrec never
needs CUDA: CuPy is imported only when a GPU is asked for. Also here: whether the MPI
library takes device buffers (CUDA-aware), and :func:`device_allreduce`, which uses them
when it does and stages through the host otherwise. Holds no algorithm logic.
"""
from __future__ import annotations

import ctypes
import logging
import os
import subprocess
import sys
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
    :class:`DeviceError`, raised on every rank together (one message for the job).
    Collective: call on every rank of ``comm``.
    """
    from .comm import resolve
    comm = resolve(comm)
    with comm.collective_errors():
        if device not in DEVICES:
            raise DeviceError(f"unknown device {device!r}: choose one of {', '.join(DEVICES)}")
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


def array_module(device: str):
    """``numpy`` for the CPU, ``cupy`` for the GPU: the one seam between the two paths."""
    if device == "gpu":
        cp = _cupy()
        if cp is None:
            raise DeviceError("no usable CUDA GPU")
        return cp
    return np


def sparse_module(xp):
    """``scipy.sparse`` for NumPy, ``cupyx.scipy.sparse`` for CuPy (the same seam, sparse)."""
    if xp is np:
        import scipy.sparse as sparse
    else:
        import cupyx.scipy.sparse as sparse
    return sparse


def to_host(x) -> np.ndarray:
    """A NumPy array from a NumPy or CuPy array (synchronising the stream first)."""
    if isinstance(x, np.ndarray):
        return x
    get = getattr(x, "get", None)
    return get() if get is not None else np.asarray(x)


# -- device buffers and MPI -----------------------------------------------------------------

_ENV_CUDA_AWARE = (("PSP_CUDA", "1"),                    # ParaStation MPI
                   ("MPICH_GPU_SUPPORT_ENABLED", "1"),   # Cray MPICH
                   ("MV2_USE_CUDA", "1"))                # MVAPICH2


def _mpix_query_cuda_support() -> bool | None:
    """``MPIX_Query_cuda_support()`` of the loaded MPI library (Open MPI, MPICH >= 4,
    ParaStation MPI); None when the library has no such extension."""
    paths = [None]
    try:
        with open("/proc/self/maps") as maps:
            paths += sorted({line.split()[-1] for line in maps if "/libmpi" in line})
    except OSError:
        pass
    for path in paths:
        try:
            query = ctypes.CDLL(path).MPIX_Query_cuda_support
        except (OSError, AttributeError):
            continue
        query.restype = ctypes.c_int
        return bool(query())
    return None


def _ompi_info_cuda() -> bool:
    """Open MPI built with CUDA, as ``ompi_info`` reports it."""
    try:
        out = subprocess.run(["ompi_info", "--parsable", "--all"], capture_output=True,
                             text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "mpi_built_with_cuda_support:value:true" in out


def detect_cuda_aware_mpi() -> bool:
    """Whether this process's MPI library accepts GPU buffers (no communication).

    ``HPCREC_CUDA_AWARE_MPI=0|1`` decides when set. Otherwise: an explicit switch of the
    MPI (``PSP_CUDA``, ``MPICH_GPU_SUPPORT_ENABLED``, ``MV2_USE_CUDA``) set to 1, else the
    library's ``MPIX_Query_cuda_support()``, else, for Open MPI, ``ompi_info``.
    """
    forced = os.environ.get("HPCREC_CUDA_AWARE_MPI")
    if forced in ("0", "1"):
        return forced == "1"
    if any(os.environ.get(var) == on for var, on in _ENV_CUDA_AWARE):
        return True
    MPI = sys.modules.get("mpi4py.MPI")  # loaded by hpcrec.comm when MPI is in use
    if MPI is None:
        return False
    answer = _mpix_query_cuda_support()
    if answer is not None:
        return answer
    return "Open MPI" in MPI.Get_library_version() and _ompi_info_cuda()


@lru_cache(maxsize=None)
def cuda_aware_mpi(comm=None) -> bool:
    """True when every rank's MPI accepts GPU buffers. Collective (call on all ranks);
    the answer is cached per communicator. A serial run needs no MPI: False."""
    from .comm import resolve
    comm = resolve(comm)
    if comm.size == 1:
        return False
    mine = detect_cuda_aware_mpi()
    return bool(comm.allreduce(np.array([int(mine)], dtype=np.int64), "min")[0])


def device_allreduce(comm, array, op: str = "sum"):
    """In-place Allreduce of a NumPy or CuPy array over all ranks; returns it.

    A device array is first synchronised (MPI reads it outside CUDA's stream order), then
    reduced in place when the MPI is CUDA-aware (:func:`cuda_aware_mpi`), else copied to
    the host, reduced there and copied back.
    """
    from .comm import resolve
    comm = resolve(comm)
    if isinstance(array, np.ndarray):
        return comm.allreduce(array, op)
    if comm.size == 1:
        return array
    array.device.synchronize()
    if cuda_aware_mpi(comm):
        return comm.allreduce(array, op)
    host = np.ascontiguousarray(to_host(array))
    comm.allreduce(host, op)
    array.set(host)
    return array
