"""Parallel streaming readers for FIMI, basket CSV and ratings text (ratings CSV, MovieLens).

Every rank parses only its own line-aligned byte range (:mod:`.textscan`), chunk by chunk,
with the compiled tokenizers of ``hpcrec.kernels.textparse``; ids become global codes
through one dictionary shared by all ranks (:func:`.textscan.factorize`), so the result
equals the serial reader's on the whole file. Memory per rank, beyond a fixed chunk
buffer, is its output share: ratings are parsed straight into columns reserved for the
most lines the rank's bytes can hold (:func:`max_rows`; pages never written cost no
memory), ids as int32 and coded in place (a file with an id beyond int32 is parsed again
into int64 ids, on every rank); FIMI ids and basket CSV label numbers (from a compiled
hash table of the rank's distinct labels) are parsed as int32 into one array reserved for
the rank's range and coded in place, the row pointers written by the tokenizer (no
per-chunk copies, no join); basket CSV adds its table of distinct labels.

The fast grammar (plain ASCII numerals, LF/CRLF, no quotes or signs on ids, at most 15
digits per number) is where the compiled parse is provably identical to the serial readers.
A file outside it anywhere — text ids, exponents, malformed lines, bad bytes — makes every
rank return None together, and the caller uses the serial reader, which owns the exact
semantics and error messages for such files.
"""
from __future__ import annotations

import csv

import numpy as np

from ..core.comm import Comm, chunk, weighted_bounds
from ..core.memory import check_memory
from ..kernels.csr import csr
from ..progress import progress
from . import ratings as rmod
from . import textscan
from .ratings import Ratings
from .shard import Shard
from .transactions import Transactions

# Bytes of memory per byte of a rank's text (FIMI, basket CSV: a 2-byte id or cell stored
# as 4 bytes, 8 when ids need int64; ratings: 20 bytes per line of at least 8 bytes, 28
# when ids need int64).
STREAM_EXPANSION = 4
# Scratch per byte of a chunk: its buffer (which doubles for a longer line) and the outputs
# of the pieces parsed in other threads (see _Threads: up to 2.5 bytes per byte of text).
SCRATCH_PER_BYTE = 5
CSV_FIELD_LIMIT = csv.field_size_limit()   # the serial reader's csv module refuses longer cells
# MovieLens layouts and the generic ratings CSV: separator, header line (None: detect),
# fields per line (None: 3 or 4, from the first data line), source tag.
LAYOUTS = {
    "ml100k": (b"\t", False, 4, "movielens-100k"),
    "ml1m": (b"::", False, 4, "movielens-1m"),
    "mlcsv": (b",", True, 4, "movielens-csv"),
    "ratings-csv": (b",", None, None, "ratings-csv"),
}


def _kernels():
    from ..kernels import textparse  # Numba: imported when a text file is parsed
    return textparse


def _scan(path, comm: Comm, start: int, parse) -> tuple[bool, int, int]:
    """Run ``parse(block) -> ok`` over this rank's chunks; every rank learns if all were ok."""
    ok = True
    with comm.collective_errors():
        lo, hi = textscan.byte_range(path, comm.rank, comm.size, start)
        scratch = SCRATCH_PER_BYTE * min(hi - lo, textscan.CHUNK_BYTES)
        check_memory((hi - lo) * STREAM_EXPANSION + scratch, f"parsing {path}",
                     "parse it with more ranks (each reads its own part) or on a node with more memory")
        with progress(f"reading {path}", total=hi - lo, unit="B", comm=comm) as bar:
            for block in textscan.chunks(path, lo, hi):
                if not parse(block):
                    ok = False
                    break
                bar.update(len(block))
    return comm.allreduce_scalar(0 if ok else 1) == 0, lo, hi


def read_fimi(path, comm: Comm) -> Transactions | None:
    """This rank's transactions of a FIMI file (the lines starting in its byte range), or None.

    Ids are parsed straight into one int32 array sized for the rank's range (its untouched
    tail costs no memory), each line sorted and deduplicated by the tokenizer as it ends,
    and coded in place (codes keep the ids' order, so the rows stay sorted); a file with an
    id above the int32 range is parsed again into int64 ids, on every rank. The tokenizer
    marks the ids it meets in a presence table (ids below :data:`.textscan.DENSE_SPAN`), so
    the dictionary of ids needs no pass over them when every id fits it.
    """
    kern = _kernels()
    with comm.collective_errors():
        lo, hi = textscan.byte_range(path, comm.rank, comm.size)
    ok, wide, ids, rows, marks = _fimi_ids(path, comm, hi - lo, np.int32, kern)
    if wide:
        ok, _, ids, rows, marks = _fimi_ids(path, comm, hi - lo, np.int64, kern)
    if not ok or comm.allreduce_scalar(len(ids)) == 0:
        return None     # the serial reader says why (bad token, empty file, ...)
    labels, codes = textscan.factorize([ids], comm, marks)   # in place for int32 ids
    return Transactions(csr(rows.indptr, codes), labels, textscan.shard_of(rows.n, comm))


def _fimi_ids(path, comm: Comm, nbytes: int, dtype, kern):
    """(all ranks ok, some rank saw an id too large for ``dtype``, this rank's ids, its
    :class:`.textscan.RowPointers`, (presence table, largest id)) of one pass over this
    rank's FIMI text of ``nbytes`` bytes (in pieces at once, see :class:`_Threads`)."""
    ids = np.empty((nbytes + 1) // 2 + 1, dtype=dtype)
    rows = textscan.RowPointers(nbytes)
    seen = np.zeros(textscan.DENSE_SPAN, dtype=np.uint8)
    limit = int(np.iinfo(dtype).max)
    scratch = {}         # piece k > 0 of a chunk: (ids, RowPointers), appended after piece k - 1
    wide, top = False, -1

    def tokens(piece, k):
        """(status, largest id) of piece ``k``: into the rank's arrays, or scratch k."""
        out, ptrs = ids, rows
        if k:
            if k not in scratch or len(scratch[k][0]) < (len(piece) + 1) // 2 + 1:
                scratch[k] = np.empty((len(piece) + 1) // 2 + 1, dtype), textscan.RowPointers(len(piece))
            out, ptrs = scratch[k]
            ptrs.n = 0
        at, most = 0, -1
        while True:
            ptrs.n, status, high, off = kern.fimi_tokens(piece[at:], out, ptrs.ptr, ptrs.n, limit, seen)
            most = max(most, high)
            if status != -3:
                return status, most
            at += off
            ptrs.grow()

    def parse(block):
        nonlocal wide, top
        for k, (status, most) in enumerate(threads.map(threads.split(block), tokens)):
            top = max(top, most)
            if status != -1:
                wide = status == -2
                return False
            if k:
                out, ptrs = scratch[k]
                ids[rows.nnz:rows.nnz + ptrs.nnz] = out[:ptrs.nnz]
                rows.extend(ptrs)
        return True

    with _Threads(comm) as threads:
        ok, _, _ = _scan(path, comm, 0, parse)
    return ok, comm.allreduce_scalar(int(wide), "max") > 0, ids[:rows.nnz], rows, (seen, top)


class _Threads:
    """A chunk's pieces parsed at once: a rank with cores of its own (as many threads as
    :func:`hpcrec.core.device.share_cores` gives it) cuts each chunk at line ends into
    that many pieces, parses the first in this thread and the others in a pool (the
    tokenizers release the GIL); each piece's rows follow the last's."""

    def __init__(self, comm: Comm):
        from ..core.device import share_cores
        self.n, self.pool = share_cores(comm), None
        if self.n > 1:
            from concurrent.futures import ThreadPoolExecutor
            self.pool = ThreadPoolExecutor(self.n - 1)

    def split(self, block) -> list:
        return textscan.split_lines(block, self.n)

    def map(self, pieces, parse_piece) -> list:
        """``parse_piece(piece, k)`` of every piece ``k``, in order (the first in this thread)."""
        first, *rest = pieces
        jobs = [self.pool.submit(parse_piece, piece, k) for k, piece in enumerate(rest, 1)]
        return [parse_piece(first, 0)] + [job.result() for job in jobs]

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown()


def read_baskets(path, comm: Comm) -> Transactions | None:
    """This rank's baskets of a basket CSV (the lines starting in its byte range), or None.

    The fast grammar: printable ASCII without quotes (so no cell spans lines), LF/CRLF,
    a first line that is not blank; the header ``0,1,...,k-1`` is detected on the first
    line as the serial reader does. Labels are the cells' texts, as the serial reader's.
    Each cell is numbered while it is tokenized, by a hash table of this rank's distinct
    labels (compiled; their bytes kept once), straight into one int32 array reserved for
    the rank's range; the ranks then merge their distinct labels (:func:`.textscan.
    text_dictionary`) and the numbers become global codes while the rows are sorted.
    """
    head = textscan.head(path)
    first = head.split(b"\n", 1)
    if len(first) < 2 and len(head) == 65536 or not first[0].rstrip(b"\r"):
        return None                       # a first line longer than the head, or blank
    line = first[0].rstrip(b"\r")
    header = line.split(b",") == [str(i).encode() for i in range(line.count(b",") + 1)]
    start = len(first[0]) + 1 if header else 0
    kern = _kernels()
    with comm.collective_errors():
        lo, hi = textscan.byte_range(path, comm.rank, comm.size, start)
    ids = np.empty((hi - lo + 1) // 2 + 1, dtype=np.int32)
    rows, table = textscan.RowPointers(hi - lo), textscan.LabelTable()

    def parse(block):
        at = 0
        while True:
            rows.n, status, off = kern.basket_labels(block[at:], ids, rows.ptr, rows.n,
                                                     CSV_FIELD_LIMIT, table.state())
            if status != -3:
                break
            at += off
            if rows.n + 1 >= len(rows.ptr):
                rows.grow()
            else:
                table.grow()
        return status == -1

    ok, _, _ = _scan(path, comm, start, parse)
    if not ok or comm.allreduce_scalar(rows.nnz) == 0:
        return None     # the serial reader says why (quotes, non-ASCII text, no items, ...)
    labels, lookup = textscan.text_dictionary(table.distinct(kern), comm)
    return _csr_part(labels, ids[:rows.nnz], rows, comm, kern, lookup)


def _csr_part(labels, cols, rows, comm, kern, lookup) -> Transactions:
    """This rank's transactions from its label numbers, the ``lookup`` of their codes
    and :class:`.textscan.RowPointers`: rows sorted and deduplicated in place."""
    indptr = kern.sort_unique_rows(rows.indptr, cols, lookup)
    return Transactions(csr(indptr, cols[:indptr[-1]]), labels, textscan.shard_of(rows.n, comm))


def _fields(head: bytes, sep: bytes, header: bool, n_fields: int | None):
    """(data start offset, fields per line) from the file's head, or None outside the fast grammar."""
    lines = head.split(b"\n")
    if len(lines) < 2 and len(head) == 65536:
        return None                                        # a first line longer than the head
    start = 0
    if header:
        first = lines.pop(0)
        if b'"' in first:
            return None
        start = len(first) + 1
    data = next((ln.rstrip(b"\r") for ln in lines if ln.rstrip(b"\r")), None)
    if data is None:
        return None
    n = data.count(sep) + 1
    if n_fields is None and n not in (3, 4) or n_fields is not None and n != n_fields:
        return None
    if header and first.rstrip(b"\r").count(sep) + 1 != n:
        return None
    return start, n


def max_rows(nbytes: int, n_fields: int) -> int:
    """The most ratings lines ``nbytes`` bytes can hold: a line of ``n_fields`` fields is at
    least ``2 * n_fields - 1`` bytes plus its LF (the last one may lack it)."""
    return (nbytes + 1) // (2 * n_fields) + 1


def read_ratings(path, layout: str, comm: Comm, out: rmod.H5Output | None = None) -> Ratings | None:
    """This rank's ratings (the lines starting in its byte range) of a ratings text file, or
    None. With ``out``, the rating and timestamp columns are handed to it (its file opened
    and written in the background) once parsed, before the ids are coded."""
    sep, header, n_fields, source = LAYOUTS[layout]
    head = textscan.head(path)
    if header is None:
        header = rmod.csv_has_header(head)
    shape = _fields(head, sep, header, n_fields)
    if shape is None:
        return None
    start, n_fields = shape
    cols = _ratings_columns(path, comm, start, sep, n_fields, np.int32)
    if cols == "wide":
        cols = _ratings_columns(path, comm, start, sep, n_fields, np.int64)
    if cols is None:
        return None
    ids, rating, stamp, marks = cols
    if n_fields != 4:
        stamp = np.zeros(len(rating), dtype=np.int64)    # as Ratings stores an absent column
    if out is not None:
        out.values(rating, stamp)
    user_ids, user_codes = textscan.factorize([ids[0]], comm, marks[0])  # int32: coded in place
    item_ids, item_codes = textscan.factorize([ids[1]], comm, marks[1])
    del ids, cols
    titles = genres = None
    if layout == "ml100k":
        with comm.collective_errors():
            known_users, known_items, titles, genres = rmod.ml100k_tables(path)
        mapped = [_onto(known_users, user_ids, user_codes), _onto(known_items, item_ids, item_codes)]
        if comm.allreduce_scalar(sum(m is None for m in mapped)):
            return None                                    # an id not in u.user / u.item
        (user_ids, user_codes), (item_ids, item_codes) = mapped
    r = Ratings(user_codes, item_codes, rating, stamp,
                user_ids, item_ids, titles, genres, {"source": source})
    r.shard = textscan.shard_of(r.nnz, comm)
    if layout in ("ml1m", "mlcsv"):
        with comm.collective_errors():
            rmod.attach_movies(r, path)
    return r


def _ratings_columns(path, comm: Comm, start: int, sep: bytes, n_fields: int, id_type):
    """This rank's ((user, item) ids, rating, timestamp, (user marks, item marks)) of one
    pass of the compiled tokenizer over its lines, ids as ``id_type``, marks as
    :func:`.textscan.dictionary` takes them; None when some rank met a line outside the
    fast grammar, "wide" when some rank met an id too large for ``id_type``."""
    with comm.collective_errors():
        lo, hi = textscan.byte_range(path, comm.rank, comm.size, start)
    cols = _Columns(max_rows(hi - lo, n_fields), n_fields, id_type, sep)
    with _Threads(comm) as threads:
        ok, _, _ = _scan(path, comm, start, lambda block: cols.parse(block, threads))
    if comm.allreduce_scalar(int(cols.wide), "max"):
        return "wide"
    if not ok or comm.allreduce_scalar(cols.done) == 0:
        return None
    n, seen, tops = cols.done, cols.seen, cols.tops
    return cols.ids[:, :n], cols.rating[:n], cols.stamp[:n], ((seen[0], tops[0]), (seen[1], tops[1]))


class _Columns:
    """A rank's ratings columns, reserved for ``rows`` lines (no counting pass: the untouched
    tail costs no memory) and filled chunk by chunk by the compiled tokenizer, which marks
    the ids it meets in ``seen``. The pieces of a chunk (see :class:`_Threads`) write
    straight into the columns, each from the row its predecessors' line ends put it at
    (exact unless a line is blank: then the rows move down after the chunk)."""

    def __init__(self, rows: int, n_fields: int, id_type, sep: bytes):
        self.ids, self.rating = np.empty((2, rows), id_type), np.empty(rows, np.float32)
        self.stamp = np.empty(rows if n_fields == 4 else 0, np.int64)
        self.seen = np.zeros((2, textscan.DENSE_SPAN), dtype=np.uint8)
        self.n_fields, self.sep, self.kern = n_fields, np.frombuffer(sep, dtype=np.uint8), _kernels()
        self.done, self.wide, self.tops = 0, False, [-1, -1]
        self.starts = [0]

    def _piece(self, piece, k):
        return self.kern.delimited_numbers(piece, self.sep, self.n_fields, self.ids, self.rating,
                                           self.stamp, self.starts[k], self.seen)

    def parse(self, block, threads) -> bool:
        """Parse one chunk; False (and ``wide`` set if that was why) when it is not all ok."""
        pieces = threads.split(block)
        self.starts = [self.done]
        for piece in pieces[:-1]:
            self.starts.append(self.starts[-1] + int(np.count_nonzero(piece == 10)))
        if self.starts[-1] + max_rows(len(pieces[-1]), self.n_fields) > len(self.rating):
            pieces, self.starts = [block], [self.done]   # blank lines: more ends than rows
        for start, (rows, status, *most) in zip(self.starts, threads.map(pieces, self._piece)):
            self.tops[:] = map(max, self.tops, most)
            if status != -1:
                self.wide = status == -2
                return False
            if start > self.done:                        # after blank lines: close the gap
                end = self.done + rows
                self.ids[:, self.done:end] = self.ids[:, start:start + rows]
                self.rating[self.done:end] = self.rating[start:start + rows]
                self.stamp[self.done:end] = self.stamp[start:start + rows]
            self.done += rows
        return True


def _onto(known, ids: np.ndarray, codes: np.ndarray):
    """Codes into ``known`` (a side table of ids) instead of ``ids``; None if one is missing."""
    if known is None:
        return ids, codes
    if len(known) == 0 or np.any(np.diff(known) <= 0):
        return None                       # unsorted or repeated: the serial reader decides
    pos = np.searchsorted(known, ids)
    if np.any(pos >= len(known)) or np.any(known[np.minimum(pos, len(known) - 1)] != ids):
        return None
    codes[...] = pos.astype(np.int32)[codes]
    return known, codes


def read(path, fmt: str, layout: str | None, comm: Comm, out: rmod.H5Output | None = None):
    """This rank's part of a FIMI or ratings text file through the fast path, or None
    (``out``: see :func:`read_ratings`)."""
    if fmt == "fimi":
        return read_fimi(path, comm)
    if fmt == "baskets-csv":
        return read_baskets(path, comm)
    if fmt != "fimi" and layout in LAYOUTS:
        return read_ratings(path, layout, comm, out)
    return None


def redistribute(data, comm: Comm):
    """This rank's part in the standard decomposition, moved between ranks.

    Ratings: ``chunk(n_total, rank, size)``; transactions: the rows of
    ``weighted_bounds`` (balanced non-zeros), as the HDF5 readers give them.
    """
    if comm.size == 1:
        return data
    if isinstance(data, Transactions):
        return _redistribute_rows(data, comm)
    r = data
    starts = np.array([chunk(r.n_total, k, comm.size)[0] for k in range(comm.size)] + [r.n_total],
                      dtype=np.int64)
    lo, hi = r.offset, r.offset + r.nnz
    counts = np.clip(np.minimum(starts[1:], hi) - np.maximum(starts[:-1], lo), 0, None)
    cols = [comm.alltoallv(a, counts)[0] for a in (r.user, r.item, r.rating, r.timestamp)]
    lo, _ = comm.chunk(r.n_total)
    return Ratings(*cols, r.user_ids, r.item_ids, r.item_titles, r.item_genres, r.meta,
                   Shard(lo, r.n_total, comm.rank, comm.size))


def _redistribute_rows(tx: Transactions, comm: Comm) -> Transactions:
    lengths = np.diff(tx.rows.indptr)
    indptr = np.zeros(tx.n_total + 1, dtype=np.int64)    # global, as read_h5 holds it
    np.cumsum(comm.allgatherv(lengths), out=indptr[1:])
    b = weighted_bounds(indptr, comm.size)
    lo, hi = tx.offset, tx.offset + tx.n_rows
    first, last = np.clip(b[:-1], lo, hi), np.clip(b[1:], lo, hi)
    rows, _ = comm.alltoallv(lengths, last - first)
    indices, _ = comm.alltoallv(tx.rows.indices, indptr[last] - indptr[first])
    ptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(rows, out=ptr[1:])
    return Transactions(csr(ptr, indices), tx.labels,
                        Shard(int(b[comm.rank]), tx.n_total, comm.rank, comm.size))
