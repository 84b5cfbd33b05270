"""Splitting a text file among ranks, reading it in bounded chunks, and gluing ranks' results.

Decomposition: rank r of p owns the lines whose first byte lies in the byte range
``chunk(size, r, p)`` of the file; its range is moved forward to the next line start,
so every line belongs to exactly one rank, in file order, with no communication. A rank
reads its range in chunks of about :data:`CHUNK_BYTES` that end at line ends (a longer
line is read whole). The global dictionary of ids (:func:`factorize`) goes through the comm
layer. Knows bytes
and arrays, not formats.
"""
from __future__ import annotations

import os

import numpy as np

from ..core.comm import Comm, chunk
from .inputs import open_regular
from .shard import Shard

CHUNK_BYTES = 8 << 20
ROW_BYTES = 16         # row pointers are first reserved for one row per this many bytes
LABEL_SLOTS = 1 << 16  # a rank's table of distinct text labels starts with this many slots
DENSE_SPAN = 1 << 20   # integer ids spanning up to max(this, 2 * values) use a dense table
_INT64_MAX = np.iinfo(np.int64).max


def _line_start(fh, pos: int, size: int) -> int:
    """The first line start at or after ``pos`` (``size`` when none)."""
    if pos <= 0:
        return 0
    fh.seek(pos - 1)
    while True:
        block = fh.read(1 << 16)
        if not block:
            return size
        k = block.find(b"\n")
        if k >= 0:
            return fh.tell() - len(block) + k + 1
        pos += len(block)


def byte_range(path, part: int, parts: int, start: int = 0) -> tuple[int, int]:
    """[lo, hi) of part ``part`` of ``parts`` of ``path`` from byte ``start`` on, aligned
    to line starts (under MPI rank r of p reads part r of p)."""
    with open_regular(path) as fh:
        size = os.fstat(fh.fileno()).st_size
        lo, hi = (start + x for x in chunk(size - start, part, parts))
        return _line_start(fh, lo, size) if lo > start else start, _line_start(fh, hi, size)


def chunks(path, lo: int, hi: int, nbytes: int | None = None):
    """Blocks of bytes (NumPy uint8 arrays) covering [lo, hi), each ending at a line end.

    A block ends just after a newline, except the last one of the file. Each holds at
    most ``nbytes`` (default :data:`CHUNK_BYTES`) bytes unless one line is longer. Bytes
    are read once, into one buffer reused for every block (fresh pages cost as much as
    parsing them): a block is valid until the next one is asked for. A file that shrinks
    while read ends early.
    """
    nbytes = nbytes or CHUNK_BYTES
    with open_regular(path) as fh:
        fh.seek(lo)
        buf = np.empty(0, dtype=np.uint8)
        pos, kept = lo, 0          # kept: the start of a line, at the buffer's start
        while pos < hi or kept:
            want = max(0, min(nbytes, hi - pos))
            if kept + want > len(buf):
                grown = np.empty(max(kept + want, 2 * len(buf)), dtype=np.uint8)
                grown[:kept] = buf[:kept]
                buf = grown
            got = fh.readinto(memoryview(buf)[kept:kept + want]) if want else 0
            pos, end = pos + got, kept + got
            if pos < hi and got == want:
                cut = _last_newline(buf[:end]) + 1
                if cut == 0:           # a line longer than the block: read on
                    kept = end
                    continue
                yield buf[:cut]
                kept = end - cut
                buf[:kept] = buf[cut:end]       # NumPy copies overlapping ranges safely
            else:
                pos, kept = hi, 0
                if end:
                    yield buf[:end]


def split_lines(block: np.ndarray, parts: int) -> list[np.ndarray]:
    """``block`` (whole lines) cut at line ends into at most ``parts`` non-empty pieces of
    about equal size (a piece of one long line may take the place of several)."""
    cuts = [0]
    for k in range(1, parts):
        cut = _last_newline(block[:len(block) * k // parts]) + 1
        if cut > cuts[-1]:
            cuts.append(cut)
    cuts.append(len(block))
    return [block[a:b] for a, b in zip(cuts[:-1], cuts[1:]) if b > a] or [block]


def _last_newline(buf: np.ndarray) -> int:
    """Offset of the last LF in ``buf`` (-1 if none), searched from the end in growing windows."""
    end, step = len(buf), 4096
    while end > 0:
        start = max(0, end - step)
        hits = np.flatnonzero(buf[start:end] == 10)
        if len(hits):
            return start + int(hits[-1])
        end, step = start, 2 * step
    return -1


def head(path, nbytes: int = 65536) -> bytes:
    with open_regular(path) as fh:
        return fh.read(nbytes)


def factorize(arrays: list[np.ndarray], comm: Comm, marks=None) -> tuple[np.ndarray, np.ndarray]:
    """Global sorted distinct ids over every rank's ``arrays``, and this rank's ids as int32
    codes: one array, the arrays' codes one after the other.

    Identical on every rank (the codes index the global table, as ``np.unique`` over the
    whole data would give). One int32 array is recoded in place; otherwise the codes are
    written straight into one new array (no joining copy). See :func:`dictionary` (and
    its ``marks``).
    """
    labels, lookup, shift = dictionary(arrays, comm, marks)
    return labels, recode(arrays, labels, lookup, shift)


def dictionary(arrays: list[np.ndarray], comm: Comm, marks=None):
    """(global sorted distinct ids over every rank's ``arrays``, lookup, shift): the code of
    id ``x`` is ``lookup[x - shift]`` (int32), or with lookup None its position in the ids.

    Integer ids within a span of max(:data:`DENSE_SPAN`, 2 x the number of values) use a
    dense presence table (one reduction, no sort); others merge local uniques. ``marks``,
    made while parsing: (a uint8 table with 1 at each id below its length met here, the
    largest id here or -1); when every rank's ids fit it, it is that table (no pass over
    the ids). Collective.
    """
    if marks is not None:
        seen, top = marks
        top = comm.allreduce_scalar(top, "max")
        if top < len(seen):
            seen = seen[:top + 1]        # no id above: the rest of the table is zeros
            comm.allreduce(seen, "max")
            return _dense(seen, 0)
    present = [a for a in arrays if len(a)]
    lo = min((int(a.min()) for a in present), default=_INT64_MAX)
    hi = max((int(a.max()) for a in present), default=-1)
    stats = np.array([-lo, hi], dtype=np.int64)
    comm.allreduce(stats, "max")
    total = comm.allreduce_scalar(sum(len(a) for a in arrays))
    lo, hi = -int(stats[0]), int(stats[1])
    if hi < lo:
        return np.zeros(0, np.int64), None, 0
    limit = max(DENSE_SPAN, 2 * total)
    shift = 0 if 0 <= lo and hi < limit else lo     # a table from 0 on: ids index it as they are
    if hi - shift >= limit:
        local = np.unique(np.concatenate(present)) if present else np.zeros(0, np.int64)
        return np.unique(comm.allgatherv(local.astype(np.int64))), None, 0
    seen = np.zeros(hi - shift + 1, dtype=np.uint8)
    for a in present:
        for s in range(0, len(a), CHUNK_BYTES):
            piece = a[s:s + CHUNK_BYTES]
            seen[piece - shift if shift else piece] = 1
    comm.allreduce(seen, "max")
    return _dense(seen, shift)


def _dense(seen: np.ndarray, shift: int):
    """(ids, lookup, shift) of a global presence table of ids ``shift + k``."""
    labels = np.flatnonzero(seen).astype(np.int64) + shift
    lookup = np.cumsum(seen, dtype=np.int32)
    lookup -= 1
    return labels, lookup, shift


def recode(arrays: list[np.ndarray], labels: np.ndarray, lookup, shift: int) -> np.ndarray:
    """The codes of :func:`dictionary` for ``arrays``: one int32 array (a single int32 input
    is recoded in place, by a compiled loop when the codes come from a table)."""
    in_place = len(arrays) == 1 and arrays[0].dtype == np.int32
    if in_place and lookup is not None:
        from ..kernels.textparse import recode_in_place
        recode_in_place(arrays[0], lookup, shift)
        return arrays[0]
    codes = arrays[0] if in_place else np.empty(sum(len(a) for a in arrays), dtype=np.int32)
    row = 0
    for a in arrays:
        for s in range(0, len(a), CHUNK_BYTES):
            piece = a[s:s + CHUNK_BYTES]
            dest = codes[row:row + len(piece)]
            if lookup is None:
                dest[...] = np.searchsorted(labels, piece)
            else:                         # every index is in the table: no bounds to check
                np.take(lookup, piece - shift if shift else piece, out=dest, mode="clip")
            row += len(piece)
    return codes


class RowPointers:
    """CSR row pointers that a tokenizer writes straight from the text (``ptr[n]``: the
    end of row n - 1), reserved for one row per :data:`ROW_BYTES` bytes of the rank's
    range (untouched pages cost no memory) and doubled when the tokenizer finds them full."""

    def __init__(self, nbytes: int):
        self.ptr = np.empty(nbytes // ROW_BYTES + 2, dtype=np.int64)
        self.ptr[0] = 0
        self.n = 0

    def grow(self) -> None:
        ptr = np.empty(2 * len(self.ptr), dtype=np.int64)
        ptr[:self.n + 1] = self.ptr[:self.n + 1]
        self.ptr = ptr

    def extend(self, other: "RowPointers") -> None:
        """Append ``other``'s rows (their entries follow this one's ``nnz`` entries)."""
        while self.n + other.n + 1 >= len(self.ptr):
            self.grow()
        self.ptr[self.n + 1:self.n + other.n + 1] = other.ptr[1:other.n + 1] + self.nnz
        self.n += other.n

    @property
    def indptr(self) -> np.ndarray:
        return self.ptr[:self.n + 1]

    @property
    def nnz(self) -> int:
        return int(self.ptr[self.n])


class LabelTable:
    """A rank's dictionary of distinct byte-string labels, as the compiled tokenizer keeps it
    (``kernels.textparse.basket_labels``): a power-of-two hash table of label numbers, each
    label's (start, end, hash, value) and its bytes in one arena; grown by doubling."""

    def __init__(self, slots: int | None = None):
        slots = slots or LABEL_SLOTS
        self.slots = np.full(slots, -1, dtype=np.int64)
        self.keys = np.zeros((slots // 2, 4), dtype=np.int64)
        self.arena = np.zeros(slots * 16, dtype=np.uint8)
        self.used = np.zeros(2, dtype=np.int64)      # labels, arena bytes

    def state(self):
        from ..kernels.protocols import LabelArrays
        return LabelArrays(self.slots, self.keys, self.arena, self.used)

    def grow(self) -> None:
        """Double every part (the kernel asks when the next line might not fit)."""
        from ..kernels.textparse import rehash
        n, size = int(self.used[0]), 2 * len(self.slots)
        keys = np.zeros((size // 2, 4), dtype=np.int64)
        keys[:n] = self.keys[:n]
        arena = np.zeros(2 * len(self.arena), dtype=np.uint8)
        arena[:self.used[1]] = self.arena[:self.used[1]]
        self.slots, self.keys, self.arena = np.full(size, -1, dtype=np.int64), keys, arena
        rehash(self.slots, self.keys, n)

    def distinct(self, kern) -> np.ndarray:
        """The labels in number order, as a fixed-width ``S`` array."""
        n = int(self.used[0])
        spans = self.keys[:n]
        width = max(1, int((spans[:, 1] - spans[:, 0]).max(initial=1)))
        table = np.zeros((n, width), dtype=np.uint8)
        kern.cell_table(self.arena, spans[:, 0], spans[:, 1], table)
        return table.view(f"S{width}").reshape(-1)


def text_dictionary(local: np.ndarray, comm: Comm) -> tuple[np.ndarray, np.ndarray]:
    """Global sorted distinct byte strings over every rank's ``local`` ones (an ``S`` array),
    and the int32 code of each of ``local``'s entries in them.

    The same on every rank, and the order of ``np.unique`` over all cells (byte order:
    code point order for the ASCII text it is given). Labels come back as str.
    """
    width = comm.allreduce_scalar(max(local.dtype.itemsize, 1), "max")
    dtype = np.dtype(f"S{width}")
    mine = np.unique(local.astype(dtype))
    labels = np.unique(comm.allgatherv(mine.view(np.uint8)).view(dtype))
    lookup = np.searchsorted(labels, local.astype(dtype)).astype(np.int32)
    text = np.empty(len(labels), dtype=object)
    text[:] = [b.decode("ascii") for b in labels.tolist()]
    return text, lookup


def shard_of(n: int, comm: Comm) -> Shard:
    """This rank's part of the rows read by all ranks, ``n`` of them here (collective)."""
    counts = comm.allgather_counts(n)
    return Shard(int(counts[:comm.rank].sum()), int(counts.sum()), comm.rank, comm.size)
