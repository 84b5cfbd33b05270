"""Compute kernels of hpcrec, installed as ``hpcrec.kernels``.

One family per operation, each with one protocol (:mod:`hpcrec.kernels.protocols`: what
goes in, what comes out, who allocates), a CPU implementation (Numba) and, where written,
a GPU one (Numba-CUDA / CuPy), found by one lookup: :func:`get`. Kernels neither touch
files nor talk MPI, and import nothing from hpcrec: what they need is passed in.
Sparse matrices cross every boundary as one type, :class:`~hpcrec.kernels.csr.Csr`.
"""
from __future__ import annotations

import importlib

from . import numba_startup

numba_startup.install()

FAMILIES = ("support", "projected", "sgd", "als", "knn")
DEVICES = ("cpu", "gpu")

# (family, device) -> "module:attribute" of the implementation, imported on first use
# ("module" alone: the module is the implementation). GPU modules import Numba-CUDA or
# CuPy; importing hpcrec must never need them. An entry may also be the implementation
# (tests put NumPy-backed GPU code here).
TABLE: dict[tuple[str, str], object] = {
    ("support", "cpu"): "support:counter",
    ("support", "gpu"): "support_cuda:BitsetCounter",
    ("projected", "cpu"): "projected",      # the module: empty_store, mine_range
    ("sgd", "cpu"): "mf_sgd:sgd_epoch",
    ("sgd", "gpu"): "mf_sgd_cuda:sgd_epoch",
    ("als", "cpu"): "mf_als:als_half_step",
    ("als", "gpu"): "mf_als_cuda:als_half_step",
    ("knn", "cpu"): "knn:SimilarityRows",
    ("knn", "gpu"): "knn_cuda:SimilarityRows",
}


class KernelMissing(LookupError):
    """No implementation of a kernel family for a device."""


def has(family: str, device: str) -> bool:
    """Whether kernel ``family`` has an implementation for ``device`` in this table."""
    return TABLE.get((family, device)) is not None


def get(family: str, device: str):
    """The implementation of kernel ``family`` for a resolved ``device`` (``cpu``/``gpu``).

    Raises :class:`KernelMissing` for a family or device without one (FP mining has no
    GPU implementation) and ValueError for an unknown name.
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown kernel family {family!r} (one of {', '.join(FAMILIES)})")
    if device not in DEVICES:
        raise ValueError(f"kernels take a resolved device (cpu or gpu), got {device!r}")
    entry = TABLE.get((family, device))
    if entry is None:
        raise KernelMissing(f"no {device} kernel for {family} in this build")
    if isinstance(entry, str):
        module, _, attr = entry.partition(":")
        try:
            entry = importlib.import_module(f"{__name__}.{module}")
            entry = getattr(entry, attr) if attr else entry
        except ImportError as exc:
            raise KernelMissing(f"no {device} kernel for {family} in this build ({exc})") from None
    return entry
