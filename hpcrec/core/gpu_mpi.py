"""GPU buffers and MPI: whether the MPI library takes device buffers (CUDA-aware), and
:func:`device_allreduce`, which uses them when it does and stages through the host otherwise.

Next to the communicator (:mod:`hpcrec.core.comm`), which stays free of device arrays.
"""
from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from functools import lru_cache

import numpy as np

from .comm import resolve
from .device import to_host

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
