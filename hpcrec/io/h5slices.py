"""One hpcrec HDF5 file written by every rank at once, each writing its own slices.

The large arrays of a data file (ratings columns, CSR ``indptr``/``indices``) are the
concatenation, in rank order, of every rank's piece. Nothing is gathered: the ranks
exchange only their pieces' lengths and CRC-32s. The large datasets come first in the
file, so their byte offsets follow from the lengths alone (rank 0 finds them in a
metadata image built in memory, :class:`SparseImage`: h5py's file object, holding only
the bytes h5py writes, while the large datasets are reserved, contiguous, and left
unwritten); every rank writes its pieces at their offsets with plain ``pwrite`` calls
(their whole blocks around the page cache, see :func:`_direct`), checksumming each block
as it goes (one pass over the data), possibly while it still computes other pieces
(:class:`Slices`); then rank 0 builds the image with the small datasets, attributes and
combined CRC-32s and writes it. The issue-14 rules hold (:mod:`.atomic`): the
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
from ..core.errors import OutputError
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


def _blocks(piece: np.ndarray, dtype: np.dtype, convert):
    """The little-endian bytes of ``piece``'s values (``convert``'s, see :meth:`Slices.put`)
    as ``dtype``, in blocks of at most :data:`WRITE_BYTES` (views of the piece itself when
    no conversion is needed)."""
    piece = piece.reshape(-1)
    le = dtype.newbyteorder("<")
    step = max(1, WRITE_BYTES // le.itemsize)
    for s in range(0, len(piece), step):
        part = piece[s:s + step]
        if convert is not None or part.dtype != le:
            values = np.empty(len(part), le)
            (convert or _cast)(part, values)
            part = values
        yield memoryview(np.ascontiguousarray(part).view(np.uint8))


def _converter(add: int, convert):
    """The function that fills a block with a piece's values: ``convert``, else one adding
    ``add`` (None when there is nothing to add: the values are only cast)."""
    if convert is not None:
        return convert
    return (lambda items, out: _cast(items, out, add)) if add else None


def _cast(items: np.ndarray, out: np.ndarray, add: int = 0) -> np.ndarray:
    """``out`` = ``items + add`` in ``out``'s dtype. A value that dtype cannot hold (an item
    code past 65,535 stored as uint16) raises instead of wrapping round to a valid-looking
    code: checked per block, while the block is in the CPU's cache."""
    if out.dtype.kind in "iu" and items.dtype.kind in "iu" and len(items) \
            and not np.can_cast(items.dtype, out.dtype):
        info = np.iinfo(out.dtype)
        if items.min() + add < info.min or items.max() + add > info.max:
            raise ValueError(f"values outside {out.dtype}'s range {info.min}..{info.max}")
    np.add(items, add, out=out, casting="unsafe")
    return out


def _write_piece(fd: int, direct: int | None, piece: np.ndarray, dtype: np.dtype, convert,
                 at: int, pool) -> int:
    """Write the bytes of ``piece``'s values (``convert``'s, see :meth:`Slices.put`) as
    ``dtype`` at byte ``at`` (around the page cache where it can, see :func:`_direct`) and
    return their CRC-32, computed on the way (while ``pool``'s thread writes the block:
    both release the GIL)."""
    piece = piece.reshape(-1)
    if direct is not None and (convert is not None or piece.dtype == dtype
                               or piece.dtype.kind in "iu" and dtype.kind in "iu"):
        try:
            return _direct(fd, direct, np.ascontiguousarray(piece), dtype, convert, at, pool)
        except OSError as exc:
            if exc.errno != errno.EINVAL:    # EINVAL: alignment the device refuses; write it as below
                raise
    crc = 0
    for block in _blocks(piece, dtype, convert):
        job = pool.submit(_pwrite_all, fd, block, at)
        crc = zlib.crc32(block, crc)
        job.result()
        at += len(block)
    return crc


def _direct(fd: int, direct: int, piece: np.ndarray, dtype: np.dtype, convert, at: int,
            pool) -> int:
    """Write the bytes of ``piece``'s values (``convert``'s) as ``dtype`` at ``at``: their
    whole :data:`ALIGN` blocks with ``direct`` (an ``O_DIRECT`` descriptor), through two
    reused aligned buffers (one filled, converted and narrowed or widened to ``dtype`` on the way,
    and checksummed while ``pool``'s thread writes the other), the unaligned head and tail
    with ``fd``. Their CRC-32.

    Every rank fsyncs its output before the rename, so its bytes wait for the device
    anyway; written around the page cache they are copied once, into a buffer that stays
    in the CPU's cache, instead of into fresh page-cache pages (slow to allocate on some
    virtual machines; 16u in benchmarks/README.md). A rank's row pointers continuing the
    previous ranks' (an ``add``) take this path too, so no rank writes through the page cache."""
    nbytes = piece.size * dtype.itemsize
    head = min(nbytes, -at % ALIGN)
    end = head + (nbytes - head) // ALIGN * ALIGN
    step = max(ALIGN, WRITE_BYTES - WRITE_BYTES % ALIGN)
    scratch = []         # items cut by a block's edge: cast here first (made when first needed)
    first = _shifted(piece, dtype, convert, 0, head, np.empty(head, np.uint8), scratch)
    crc = zlib.crc32(first)
    _pwrite_all(fd, memoryview(first), at)
    bufs, job = [], None
    for k, s in enumerate(range(head, end, step)):
        if len(bufs) < 2:
            raw = np.empty(min(step, end - head) + ALIGN, dtype=np.uint8)
            bufs.append(raw[-raw.ctypes.data % ALIGN:][:min(step, end - head)])
        buf = _shifted(piece, dtype, convert, s, s + min(step, end - s), bufs[k % 2][:min(step, end - s)],
                       scratch)
        crc = zlib.crc32(buf, crc)
        if job is not None:
            job.result()
        job = pool.submit(_pwrite_all, direct, memoryview(buf), at + s)
    if job is not None:
        job.result()
    last = _shifted(piece, dtype, convert, end, nbytes, np.empty(nbytes - end, np.uint8), scratch)
    _pwrite_all(fd, memoryview(last), at + end)
    return zlib.crc32(last, crc)


def _shifted(piece: np.ndarray, dtype: np.dtype, convert, lo: int, hi: int, out: np.ndarray,
             scratch: list) -> np.ndarray:
    """``out`` (uint8, ``hi - lo`` long) filled with bytes [lo, hi) of ``piece``'s values
    (``convert``'s) as ``dtype``: the piece's own bytes when nothing changes, else its
    items converted or cast straight into ``out``, or, when [lo, hi) cuts an item, into
    ``scratch[0]`` (made or grown here) and copied from there."""
    if piece.dtype == dtype and convert is None:
        out[:] = piece.view(np.uint8)[lo:hi]
        return out
    size = dtype.itemsize
    a, b = lo // size, -(-hi // size)
    whole = lo % size == 0 and hi % size == 0
    if not whole and (not scratch or len(scratch[0]) < b - a):
        scratch[:] = [np.empty(b - a, dtype)]
    items = out.view(dtype) if whole else scratch[0][:b - a]
    (convert or _cast)(piece[a:b], items)
    if not whole:
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


def _image(tmp, kind: str, small: dict, attrs: dict, reserved: dict, path) -> dict:
    """Build the metadata image and write it into ``tmp`` (the ranks' pieces are already
    there), extended to the image's size; the reserved datasets' offsets."""
    image = SparseImage()
    offsets = hdf5.build(image, kind, small, attrs, reserved)
    try:
        fd = os.open(tmp, os.O_WRONLY)
        try:
            for offset, data in image.runs():
                _pwrite_all(fd, memoryview(data), offset)
            os.ftruncate(fd, image.size)
        finally:
            os.close(fd)
    except OSError as exc:
        raise write_error(path, exc) from None
    return offsets


class Slices:
    """One hpcrec HDF5 file being written by every rank, each its own pieces (collective:
    opening and :meth:`close`).

    Opened from the large datasets' dtypes (rank 0's) and this rank's piece lengths alone:
    those datasets come first in the file (:func:`.hdf5.build`), so their offsets follow
    from the lengths, before the small datasets and attributes are known. :meth:`put`
    writes a piece in the background (copied, checksummed and written by two threads, see
    :func:`_write_piece`), so a caller can go on computing what the other pieces need (a
    reader: the dictionary of ids) while the disk takes the first ones. A failure (an
    exception out of the ``with`` block, or leaving it without :meth:`close`) removes the
    temporary file; nothing appears at ``path``.
    """

    def __init__(self, path, kind: str, shapes: dict, comm: Comm | None = None):
        from concurrent.futures import ThreadPoolExecutor
        self.path, self.kind, self.comm = path, kind, comm or serial()
        comm = self.comm
        self.dtypes = {k: np.dtype(dt).newbyteorder("<") for k, dt in comm.bcast_obj(
            {k: np.dtype(dt).str for k, (dt, _) in shapes.items()} if comm.is_root else None).items()}
        self.sizes = comm.allgather_obj({k: int(shapes[k][1]) * dt.itemsize for k, dt in self.dtypes.items()})
        self.starts = {k: sum(s[k] for s in self.sizes[:comm.rank]) for k in self.dtypes}
        self.reserved = {k: (dt, sum(s[k] for s in self.sizes) // dt.itemsize, 0)
                         for k, dt in self.dtypes.items()}
        self.jobs, self.fd, self.direct, self.closed = {}, None, None, False
        self.stack = contextlib.ExitStack()
        try:
            with comm.collective_errors():
                tmp = offsets = None
                if comm.is_root:
                    tmp = self.stack.enter_context(atomic_path(path))
                    image = SparseImage()
                    offsets = hdf5.build(image, kind, {}, {}, self.reserved)
                    try:       # sized to hold the pieces: none of their writes extends it
                        atomic._write_new(tmp, b"")     # O_EXCL, mode 0644
                        os.truncate(tmp, image.size)
                    except OSError as exc:
                        raise write_error(path, exc) from None
            tmp, self.offsets = comm.bcast_obj((str(tmp), offsets) if comm.is_root else None)
            self.tmp = Path(tmp)
            with comm.collective_errors():
                self.pool = self.stack.enter_context(ThreadPoolExecutor(1))      # copies, checksums
                self.writer = self.stack.enter_context(ThreadPoolExecutor(1))    # writes
                try:
                    self.fd = os.open(self.tmp, os.O_WRONLY)
                except OSError as exc:
                    raise write_error(path, exc) from None
                self.direct = _open_direct(self.tmp)
        except BaseException:
            self._abort()
            raise

    def put(self, name: str, piece, add: int = 0, convert=None) -> None:
        """Write this rank's piece of dataset ``name`` (plus ``add`` on every value) in the
        background; ``piece`` must stay unchanged until :meth:`close`. ``convert(part,
        out)``, if given, writes the values of a block ``part`` of the piece into ``out``
        (the dataset's dtype) in place of ``add``: values derived block by block as they
        are written (a lookup, a division), so no derived copy of the piece is made."""
        if self.sizes[self.comm.rank][name]:     # an empty dataset has no offset
            self.jobs[name] = self.pool.submit(
                _write_piece, self.fd, self.direct, np.asarray(piece), self.dtypes[name],
                _converter(add, convert), self.offsets[name] + self.starts[name], self.writer)

    def close(self, small: dict, attrs: dict):
        """Wait for every rank's pieces, write the metadata (``small`` datasets and
        ``attrs``, rank 0's) with the combined CRC-32s, then rename the file into place.
        Collective. Returns the path on rank 0, None elsewhere."""
        from concurrent.futures import wait
        comm = self.comm
        try:
            with comm.collective_errors():
                wait(self.jobs.values())     # all of them, before their files close
                missing = [k for k in self.dtypes if self.sizes[comm.rank][k] and k not in self.jobs]
                if missing:
                    raise RuntimeError(f"pieces never written: {', '.join(missing)}")
                try:
                    crcs = {name: job.result() for name, job in self.jobs.items()}
                    os.fsync(self.fd)
                except OSError as exc:
                    raise write_error(self.path, exc) from None
                finally:
                    self._close_files()
            crcs = comm.allgather_obj(crcs)
            with comm.collective_errors():
                if comm.is_root:
                    reserved = {}
                    for name, (dt, length, _) in self.reserved.items():
                        crc = 0
                        for rank_sizes, rank_crcs in zip(self.sizes, crcs):
                            crc = hdf5.crc32_combine(crc, rank_crcs.get(name, 0), rank_sizes[name])
                        reserved[name] = (dt, length, crc)
                    if _image(self.tmp, self.kind, small, attrs, reserved, self.path) != self.offsets:
                        raise RuntimeError("HDF5 layout changed between two builds of one image")
                self.stack.close()     # the threads end; rank 0: fsync, then the rename
            self.closed = True
        except BaseException:
            self._abort()
            raise
        return Path(self.path) if comm.is_root else None

    def _close_files(self) -> None:
        for fd in (self.fd, self.direct):
            if fd is not None:
                os.close(fd)
        self.fd = self.direct = None

    def _abort(self) -> None:
        """Stop the writers and remove the temporary file (no rename); idempotent."""
        self.closed = True
        for job in self.jobs.values():
            job.cancel()
        stopped = OutputError(f"{self.path}: not written")
        try:
            self.stack.__exit__(OutputError, stopped, None)   # the threads end, then atomic_path removes it
        finally:
            self._close_files()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if not self.closed:
            self._abort()


def write(path, kind: str, small: dict, pieces: dict, attrs: dict, comm: Comm | None = None,
          add: dict | None = None, dtypes: dict | None = None):
    """Write ``path`` from every rank: ``small`` datasets (rank 0's values) and the datasets
    of ``pieces``, each the concatenation in rank order of every rank's piece. ``add``:
    a number added to every value of a piece as it is written (e.g. a rank's CSR row
    pointers continuing the previous ranks': no shifted copy is made, only blocks);
    ``dtypes``: the stored dtype of a piece whose values are cast as they are written
    (e.g. int32 item codes stored as uint16: again only blocks are converted).

    One pass over each piece: its bytes are written and checksummed together (a writer
    thread writes one block while another checksums the next: around the page cache the
    writer only waits for the device, so even a rank of one core overlaps the two); rank 0
    then writes the metadata with the combined CRC-32s (:class:`Slices`). Collective.
    Returns the path on rank 0, None elsewhere.
    """
    shapes = {k: ((dtypes or {}).get(k, np.asarray(v).dtype), np.asarray(v).size)
              for k, v in pieces.items()}
    with Slices(path, kind, shapes, comm) as out:
        for name, piece in pieces.items():
            out.put(name, piece, (add or {}).get(name, 0))
        return out.close(small, attrs)
