"""Whether NumPy's large arrays ask Linux for transparent huge pages.

NumPy advises huge pages (``madvise``) on every array of 4 MB and more. On bare metal that
saves a page fault per 4 kB of the miners' stores and result arrays (benchmarks/README.md,
session 5). On a virtual machine whose balloon device reports free memory to its host
(virtio free page reporting, as on the Firecracker VMs these benchmarks ran on) it costs
instead: the guest reports free blocks of huge-page size and more, the host takes them
back, and a fresh huge page must then be backed by the host again. There the same
FP-Growth run took 1.3-3.5 s with the advice and a steady 1.6 s without it, and a whole
``hpcrec mine`` process 6.5-7.6 s against 4.6 s (benchmarks/README.md, sessions 24, 25).

``HPCREC_HUGEPAGES`` picks: ``on`` (advise), ``off`` (do not), ``auto`` (the default: off
on such a guest, else NumPy's own setting; a ``NUMPY_MADVISE_HUGEPAGE`` the user set is
kept). The run context applies it once per process (:func:`apply`); NumPy's setting is
per process, so it holds for the caller's later arrays too.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path

from .errors import InputError

BALLOON = "0x0005"   # the virtio device id of a memory balloon
REPORTING_BIT = 5    # VIRTIO_BALLOON_F_REPORTING: the guest reports free pages to the host
CHOICES = ("auto", "on", "off")


def reports_free_pages(devices: str = "/sys/bus/virtio/devices") -> bool:
    """Whether a virtio balloon of this guest negotiated free page reporting (its
    ``features`` file lists the feature bits as 0/1 characters, bit 0 first)."""
    try:
        found = list(Path(devices).iterdir())
    except OSError:
        return False
    for dev in found:
        try:
            if (dev / "device").read_text().strip() != BALLOON:
                continue
            features = (dev / "features").read_text().strip()
        except OSError:
            continue
        if len(features) > REPORTING_BIT and features[REPORTING_BIT] == "1":
            return True
    return False


def wanted(env=None, devices: str = "/sys/bus/virtio/devices") -> bool | None:
    """True (advise), False (do not) or None (leave NumPy's setting) for ``HPCREC_HUGEPAGES``
    in ``env`` (default: the process environment)."""
    env = os.environ if env is None else env
    choice = env.get("HPCREC_HUGEPAGES", "auto").strip().lower()
    if choice not in CHOICES:
        raise InputError(f"HPCREC_HUGEPAGES={choice!r}: choose one of {', '.join(CHOICES)}")
    if choice != "auto":
        return choice == "on"
    if "NUMPY_MADVISE_HUGEPAGE" in env or not reports_free_pages(devices):
        return None
    return False


def _setter():
    """NumPy's per-process switch of the advice (None where this NumPy has none)."""
    try:
        from numpy._core import multiarray
    except ImportError:   # NumPy 1.x
        from numpy.core import multiarray
    return getattr(multiarray, "_set_madvise_hugepage", None)


@functools.cache
def apply() -> bool | None:
    """Set NumPy's huge-page advice as :func:`wanted` says, once per process; returns
    what was set (None: left as it was)."""
    want, switch = wanted(), _setter()
    if want is not None and switch is not None:
        switch(want)
    return want
