"""One hpcrec HDF5 file written by every rank at once, each writing its own slices.

The large arrays of a data file (ratings columns, CSR ``indptr``/``indices``) are the
concatenation, in rank order, of every rank's piece. Nothing is gathered: the ranks
exchange only their pieces' lengths and CRC-32s; rank 0 builds the file's metadata in
memory (:class:`SparseImage`: h5py's file object, holding only the bytes h5py writes,
while the large datasets are reserved, contiguous, and left unwritten) and writes it to
the temporary file; then every rank writes its pieces at their byte offsets with plain
``pwrite`` calls (their whole blocks around the page cache, see :func:`_direct`),
checksumming each block as it goes (one pass over the data), and rank 0 writes the
metadata again with the combined CRC-32s. The issue-14 rules hold (:mod:`.atomic`): the
file appears under its name only after every rank wrote and synced, by one rename on
rank 0; a full disk or any failure on any rank is one clean error on all ranks, and the
temporary file is removed.
Serial writes (one rank, whole data) take the same path, so no file image of the data
is ever built in memory.
"""
from __future__ import annotations

import contextlib
import errno
import io
import os
import zlib
from pathlib import Path

import numpy as np

from ..core.comm import Comm, serial
from . import atomic, hdf5
from .atomic import atomic_path, write_error

WRITE_BYTES = 1 << 23   # bytes per write call
ALIGN = 4096            # offsets and lengths of writes around the page cache (device blocks)


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


def _write_piece(fd: int, direct: int | None, piece: np.ndarray, dtype: np.dtype, add: int,
                 at: int, pool) -> int:
    """Write the bytes of ``piece + add`` at byte ``at`` (around the page cache where it can,
    see :func:`_direct`) and return their CRC-32, computed on the way (while ``pool``'s
    thread writes the block: both release the GIL)."""
    piece = piece.reshape(-1)
    if direct is not None and piece.dtype == dtype:
        try:
            return _direct(fd, direct, np.ascontiguousarray(piece), add, at, pool)
        except OSError as exc:
            if exc.errno != errno.EINVAL:    # EINVAL: alignment the device refuses; write it as below
                raise
    crc = 0
    for block in _blocks(piece, dtype, add):
        job = pool.submit(_pwrite_all, fd, block, at)
        crc = zlib.crc32(block, crc)
        job.result()
        at += len(block)
    return crc


def _direct(fd: int, direct: int, piece: np.ndarray, add: int, at: int, pool) -> int:
    """Write the bytes of ``piece + add`` at ``at``: their whole :data:`ALIGN` blocks with
    ``direct`` (an ``O_DIRECT`` descriptor), through two reused aligned buffers (one filled,
    ``add`` applied on the way, and checksummed while ``pool``'s thread writes the other),
    the unaligned head and tail with ``fd``. Their CRC-32.

    Every rank fsyncs its output before the rename, so its bytes wait for the device
    anyway; written around the page cache they are copied once, into a buffer that stays
    in the CPU's cache, instead of into fresh page-cache pages (slow to allocate on some
    virtual machines; 16u in benchmarks/README.md). A rank's row pointers continuing the
    previous ranks' (``add``) take this path too, so no rank writes through the page cache."""
    nbytes = piece.nbytes
    head = min(nbytes, -at % ALIGN)
    end = head + (nbytes - head) // ALIGN * ALIGN
    step = max(ALIGN, WRITE_BYTES - WRITE_BYTES % ALIGN)
    scratch = np.empty(step // piece.itemsize + 2, piece.dtype) if add else None
    first = _shifted(piece, add, 0, head, np.empty(head, np.uint8), scratch)
    crc = zlib.crc32(first)
    _pwrite_all(fd, memoryview(first), at)
    bufs, job = [], None
    for k, s in enumerate(range(head, end, step)):
        if len(bufs) < 2:
            raw = np.empty(min(step, end - head) + ALIGN, dtype=np.uint8)
            bufs.append(raw[-raw.ctypes.data % ALIGN:][:min(step, end - head)])
        buf = _shifted(piece, add, s, s + min(step, end - s), bufs[k % 2][:min(step, end - s)], scratch)
        crc = zlib.crc32(buf, crc)
        if job is not None:
            job.result()
        job = pool.submit(_pwrite_all, direct, memoryview(buf), at + s)
    if job is not None:
        job.result()
    last = _shifted(piece, add, end, nbytes, np.empty(nbytes - end, np.uint8), scratch)
    _pwrite_all(fd, memoryview(last), at + end)
    return zlib.crc32(last, crc)


def _shifted(piece: np.ndarray, add: int, lo: int, hi: int, out: np.ndarray, scratch) -> np.ndarray:
    """``out`` (uint8, ``hi - lo`` long) filled with bytes [lo, hi) of ``piece + add``;
    ``scratch`` holds the items they span when ``add`` is not 0."""
    if not add:
        out[:] = piece.view(np.uint8)[lo:hi]
        return out
    size = piece.itemsize
    a, b = lo // size, -(-hi // size)
    items = np.add(piece[a:b], add, out=scratch[:b - a])
    out[:] = items.view(np.uint8)[lo - a * size:hi - a * size]
    return out


def _open_direct(path) -> int | None:
    """A descriptor of ``path`` that writes around the page cache (``O_DIRECT``), or None
    where the system or file system has none."""
    flag = getattr(os, "O_DIRECT", 0)
    if not flag:
        return None
    try:
        return os.open(path, os.O_WRONLY | flag)
    except OSError:
        return None     # EINVAL: not on this file system; any other failure recurs on open()


def _image(tmp, kind: str, small: dict, attrs: dict, reserved: dict, path, first: bool) -> dict:
    """Build the metadata image and write it into ``tmp`` (creating it when ``first``); the
    reserved datasets' offsets. The CRC-32s are known only after the data is written, so
    the image is built twice: first with zeros (same layout: a CRC is a fixed-size
    attribute), then with the real ones over the first."""
    image = SparseImage()
    offsets = hdf5.build(image, kind, small, attrs, reserved)
    try:
        if first:
            _write_image(tmp, image)
        else:
            fd = os.open(tmp, os.O_WRONLY)
            try:
                for offset, data in image.runs():
                    _pwrite_all(fd, memoryview(data), offset)
            finally:
                os.close(fd)
    except OSError as exc:
        raise write_error(path, exc) from None
    return offsets


def write(path, kind: str, small: dict, pieces: dict, attrs: dict, comm: Comm | None = None,
          add: dict | None = None):
    """Write ``path`` from every rank: ``small`` datasets (rank 0's values) and the datasets
    of ``pieces``, each the concatenation in rank order of every rank's piece. ``add``:
    a number added to every value of a piece as it is written (e.g. a rank's CSR row
    pointers continuing the previous ranks': no shifted copy is made, only blocks).

    One pass over each piece: its bytes are written and checksummed together (a writer
    thread writes one block while this one checksums the next: around the page cache the
    writer only waits for the device, so even a rank of one core overlaps the two); rank 0
    then writes the metadata with the combined CRC-32s. Collective. Returns the path on
    rank 0, None elsewhere.
    """
    from concurrent.futures import ThreadPoolExecutor
    comm = comm or serial()
    add = add or {}
    dtypes = {k: np.dtype(dt).newbyteorder("<") for k, dt in comm.bcast_obj(
        {k: np.asarray(v).dtype.str for k, v in pieces.items()} if comm.is_root else None).items()}
    sizes = comm.allgather_obj({k: np.asarray(pieces[k]).size * dt.itemsize for k, dt in dtypes.items()})
    starts = {k: sum(s[k] for s in sizes[:comm.rank]) for k in dtypes}
    reserved = {k: (dt, sum(s[k] for s in sizes) // dt.itemsize, 0) for k, dt in dtypes.items()}
    with contextlib.ExitStack() as stack:
        with comm.collective_errors():
            tmp = offsets = None
            if comm.is_root:
                tmp = stack.enter_context(atomic_path(path))
                offsets = _image(tmp, kind, small, attrs, reserved, path, first=True)
        tmp, offsets = comm.bcast_obj((str(tmp), offsets) if comm.is_root else None)
        crcs = {}
        with comm.collective_errors():
            pool = stack.enter_context(ThreadPoolExecutor(1))
            try:
                fd = os.open(tmp, os.O_WRONLY)
                direct = _open_direct(tmp)
                try:
                    for name, dt in dtypes.items():
                        if sizes[comm.rank][name]:    # an empty dataset has no offset
                            crcs[name] = _write_piece(fd, direct, np.asarray(pieces[name]), dt,
                                                      add.get(name, 0), offsets[name] + starts[name], pool)
                    os.fsync(fd)
                finally:
                    os.close(fd)
                    if direct is not None:
                        os.close(direct)
            except OSError as exc:
                raise write_error(path, exc) from None
        crcs = comm.allgather_obj(crcs)
        with comm.collective_errors():
            if comm.is_root:
                for name, (dt, length, _) in reserved.items():
                    crc = 0
                    for rank_sizes, rank_crcs in zip(sizes, crcs):
                        crc = hdf5.crc32_combine(crc, rank_crcs.get(name, 0), rank_sizes[name])
                    reserved[name] = (dt, length, crc)
                if _image(Path(tmp), kind, small, attrs, reserved, path, first=False) != offsets:
                    raise RuntimeError("HDF5 layout changed between two builds of one image")
                stack.close()     # fsync, then the rename: the file appears whole
    return Path(path) if comm.is_root else None
