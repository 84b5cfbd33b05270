"""Host/device array helpers the GPU kernels share: NumPy or CuPy in, NumPy out.

Kept in kernels/ (kernels import nothing from hpcrec); :mod:`hpcrec.core.device` re-exports
them for the array code outside the kernels.
"""
from __future__ import annotations

import numpy as np


def gpu_array_module():
    """CuPy, the array module of the GPU kernels (imported on first use only)."""
    import cupy
    return cupy


def sparse_module(xp):
    """``scipy.sparse`` for NumPy, ``cupyx.scipy.sparse`` for CuPy."""
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
