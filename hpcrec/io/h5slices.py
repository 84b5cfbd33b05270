"""One hpcrec HDF5 file written by every rank at once, each writing its own slices.

The large arrays of a data file (ratings columns, CSR ``indptr``/``indices``) are the
concatenation, in rank order, of every rank's piece. Nothing is gathered: the ranks
exchange only their pieces' lengths and CRC-32s; rank 0 builds the file's metadata in
memory (:class:`SparseImage`: h5py's file object, holding only the bytes h5py writes,
while the large datasets are reserved, contiguous, and left unwritten) and writes it to
the temporary file; then every rank writes its pieces at their byte offsets with plain
``pwrite`` calls. The issue-14 rules hold (:mod:`.atomic`): the file appears under its
name only after every rank wrote and synced, by one rename on rank 0; a full disk or any
failure on any rank is one clean error on all ranks, and the temporary file is removed.
Serial writes (one rank, whole data) take the same path, so no file image of the data
is ever built in memory.
"""
from __future__ import annotations

import contextlib
import io
import os
import zlib
from pathlib import Path

import numpy as np

from ..core.comm import Comm, serial
from . import atomic, hdf5
from .atomic import atomic_path, write_error

WRITE_BYTES = 1 << 26   # bytes per write call


class SparseImage(io.RawIOBase):
    """A file object that keeps only the bytes written to it (holes read as zeros).

    h5py writes the file's metadata and small datasets through it; the space it reserves
    for large datasets is never written, so the image costs what the metadata costs.
    """

    def __init__(self):
        super().__init__()
        self.extents: list[tuple[int, bytes]] = []   # (offset, bytes), in write order
        self.pos = 0
        self.size = 0

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, pos: int, whence: int = 0) -> int:
        self.pos = pos + (0, self.pos, self.size)[whence]
        return self.pos

    def tell(self) -> int:
        return self.pos

    def readinto(self, buf) -> int:
        view = memoryview(buf).cast("B")
        view[:] = bytes(len(view))
        lo, hi = self.pos, self.pos + len(view)
        for start, data in self.extents:
            a, b = max(start, lo), min(start + len(data), hi)
            if a < b:
                view[a - lo:b - lo] = data[a - start:b - start]
        n = max(0, min(len(view), self.size - lo))
        self.pos += n
        return n

    def write(self, buf) -> int:
        data = bytes(buf)
        self.extents.append((self.pos, data))
        self.pos += len(data)
        self.size = max(self.size, self.pos)
        return len(data)

    def truncate(self, size=None) -> int:
        self.size = self.pos if size is None else size
        return self.size

    def runs(self) -> list[tuple[int, bytes]]:
        """The written bytes as disjoint (offset, bytes) runs, later writes over earlier ones."""
        spans = sorted((s, s + len(d)) for s, d in self.extents)
        merged: list[list[int]] = []
        for a, b in spans:
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        out = []
        for a, b in merged:
            run = bytearray(b - a)
            for s, d in self.extents:
                if a <= s < b:
                    run[s - a:s - a + len(d)] = d
            out.append((a, bytes(run)))
        return out


def _pwrite_all(fd: int, data: memoryview, offset: int) -> None:
    while data:
        n = os.pwrite(fd, data[:WRITE_BYTES], offset)
        data, offset = data[n:], offset + n


def _blocks(piece: np.ndarray, dtype: np.dtype, add: int):
    """The little-endian bytes of ``piece + add`` as ``dtype``, in blocks of at most
    :data:`WRITE_BYTES` (views of the piece itself when no conversion is needed)."""
    piece = piece.reshape(-1)
    le = dtype.newbyteorder("<")
    step = max(1, WRITE_BYTES // le.itemsize)
    for s in range(0, len(piece), step):
        part = piece[s:s + step]
        if add:
            part = (part + add).astype(le, copy=False)
        yield memoryview(np.ascontiguousarray(part, dtype=le).view(np.uint8))


def _write_image(tmp: Path, image: SparseImage) -> None:
    """The metadata runs into a new file ``tmp``, extended to the image's size (holes sparse)."""
    runs = image.runs()
    first = runs[0][1] if runs and runs[0][0] == 0 else b""
    atomic._write_new(tmp, first)     # creates it: O_EXCL, mode 0644
    fd = os.open(tmp, os.O_WRONLY)
    try:
        for offset, data in runs[1 if first else 0:]:
            _pwrite_all(fd, memoryview(data), offset)
        os.ftruncate(fd, image.size)
    finally:
        os.close(fd)


def _stats(piece: np.ndarray, dtype: np.dtype, add: int) -> tuple[int, int]:
    """(bytes, CRC-32) of a piece as written."""
    n = crc = 0
    for block in _blocks(piece, dtype, add):
        n, crc = n + len(block), zlib.crc32(block, crc)
    return n, crc


def write(path, kind: str, small: dict, pieces: dict, attrs: dict, comm: Comm | None = None,
          add: dict | None = None):
    """Write ``path`` from every rank: ``small`` datasets (rank 0's values) and the datasets
    of ``pieces``, each the concatenation in rank order of every rank's piece. ``add``:
    a number added to every value of a piece as it is written (e.g. a rank's CSR row
    pointers continuing the previous ranks': no shifted copy is made, only blocks).

    Collective. Returns the path on rank 0, None elsewhere.
    """
    comm = comm or serial()
    add = add or {}
    dtypes = comm.bcast_obj({k: np.asarray(v).dtype.str for k, v in pieces.items()}
                            if comm.is_root else None)
    stats = comm.allgather_obj({k: _stats(pieces[k], np.dtype(dt), add.get(k, 0))
                                for k, dt in dtypes.items()})
    reserved, starts = {}, {}
    for name, dt in dtypes.items():
        crc, total = 0, 0
        for r, rank_stats in enumerate(stats):
            n, c = rank_stats[name]
            if r == comm.rank:
                starts[name] = total
            crc, total = hdf5.crc32_combine(crc, c, n), total + n
        reserved[name] = (np.dtype(dt).newbyteorder("<"), total // np.dtype(dt).itemsize, crc)
    with contextlib.ExitStack() as stack:
        with comm.collective_errors():
            tmp = offsets = None
            if comm.is_root:
                tmp = stack.enter_context(atomic_path(path))
                image = SparseImage()
                offsets = hdf5.build(image, kind, small, attrs, reserved)
                try:
                    _write_image(tmp, image)
                except OSError as exc:
                    raise write_error(path, exc) from None
        tmp, offsets = comm.bcast_obj((str(tmp), offsets) if comm.is_root else None)
        with comm.collective_errors():
            try:
                fd = os.open(tmp, os.O_WRONLY)
                try:
                    for name, dt in dtypes.items():
                        if not np.asarray(pieces[name]).size:
                            continue              # nothing to write (an empty dataset has no offset)
                        at = offsets[name] + starts[name]
                        for block in _blocks(pieces[name], np.dtype(dt), add.get(name, 0)):
                            _pwrite_all(fd, block, at)
                            at += len(block)
                    os.fsync(fd)
                finally:
                    os.close(fd)
            except OSError as exc:
                raise write_error(path, exc) from None
        with comm.collective_errors():
            if comm.is_root:
                stack.close()     # fsync, then the rename: the file appears whole
    return Path(path) if comm.is_root else None
