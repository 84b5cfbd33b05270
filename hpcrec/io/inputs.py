"""Input files: regular files only, read within the memory budget.

FIFOs, character and block devices and sockets are refused before they are opened (a FIFO
would block forever, ``/dev/zero`` never ends); so is standard input (``-`` is just a
name). Text readers get the whole file through :func:`read_regular_bytes`, which opens
without blocking, checks the opened descriptor (no swap between check and open) and the
memory budget before reading.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from ..core.errors import InputError
from ..core.memory import check_memory
from .atomic import kind_of_mode

# Parsing text into id arrays and pandas columns takes several times the file's size.
TEXT_EXPANSION = 12


def _refuse(path, mode: int) -> None:
    if stat.S_ISDIR(mode):
        raise InputError(f"{path} is a folder, expected a file")
    if not stat.S_ISREG(mode):
        raise InputError(f"{path} is {kind_of_mode(mode)}; hpcrec reads regular files only")


def check_regular(path) -> int:
    """Size of ``path`` after checking that it is a regular file (symlinks followed)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"no such file: {path}") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    _refuse(path, st.st_mode)
    return st.st_size


def open_regular(path):
    """``path`` opened for binary reading, after checking it is a regular file (no blocking open)."""
    path = Path(path)
    check_regular(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    fh = os.fdopen(fd, "rb")
    st = os.fstat(fh.fileno())
    if not stat.S_ISREG(st.st_mode):
        fh.close()
        _refuse(path, st.st_mode)
    return fh


def read_regular_bytes(path, what: str = "text input") -> bytes:
    """The whole content of the regular file ``path`` (budget-checked)."""
    path = Path(path)
    with open_regular(path) as fh:
        st = os.fstat(fh.fileno())
        check_memory(st.st_size * TEXT_EXPANSION, f"parsing {path} ({what})",
                     "convert it to HDF5 on a machine with more memory, or split it")
        try:
            return fh.read()
        except OSError as exc:
            raise InputError(f"{path}: cannot read ({exc.strerror})") from None
