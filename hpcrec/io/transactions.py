"""Transactions in CSR form, and their readers and writers.

A :class:`Transactions` is the only thing that crosses from I/O to itemset mining: its
``rows`` are the one CSR type of the kernels (:class:`~hpcrec.kernels.csr.Csr`, a 0/1
pattern), one row per transaction (this rank's slice of them), column indices into the
global item ``labels``, sorted and duplicate-free within each row (duplicates in the
input are dropped: a basket either holds an item or not).

Sources: basket CSV (one transaction per row, empty cells allowed), FIMI ``.dat``
(space-separated non-negative integer ids), one-hot CSV, a list of transactions, a
one-hot pandas DataFrame (dense or sparse, the mlxtend convention), and hpcrec HDF5
(read by rank slices balanced by non-zeros).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.comm import serial, weighted_bounds
from ..core.errors import InputError
from ..kernels.csr import Csr, csr
from . import h5slices, hdf5
from .inputs import read_regular_bytes
from .shard import Shard, Sharded, whole

SEARCH_SPAN = 1 << 16   # row pointers read at once where the split search ends (an HDF5 chunk)
KIND = "transactions"
NARROW_ITEMS = 1 << 16  # at most this many items: the stored item codes are uint16
NARROW_POINTERS = (1 << 32) - 1  # at most this many items in all: the stored row pointers are uint32


@dataclass
class Transactions(Sharded):
    rows: Csr            # one row per transaction: int32 column ids, sorted and unique; no data
    labels: np.ndarray   # the global item labels (int64 ids or object array of str)
    shard: Shard | None = None   # which part of the data set (None: the whole of it)

    def __post_init__(self):
        self.rows = csr(np.ascontiguousarray(self.rows.indptr, dtype=np.int64),
                        np.ascontiguousarray(self.rows.indices, dtype=np.int32), None,
                        len(self.labels))
        if self.shard is None:
            self.shard = whole(self.n_rows)

    @property
    def indptr(self) -> np.ndarray:
        """``rows.indptr`` (read only)."""
        return self.rows.indptr

    @property
    def indices(self) -> np.ndarray:
        """``rows.indices`` (read only)."""
        return self.rows.indices

    @property
    def n_rows(self) -> int:
        return self.rows.n_rows

    @property
    def n_items(self) -> int:
        return len(self.labels)

    @property
    def nnz(self) -> int:
        return int(self.rows.indptr[-1] - self.rows.indptr[0])

    def row(self, i: int) -> np.ndarray:
        return self.rows.indices[self.rows.indptr[i]:self.rows.indptr[i + 1]]

    def part(self, part: int, parts: int) -> "Transactions":
        """Part ``part`` of ``parts`` (contiguous rows balanced by non-zeros) of transactions
        held whole; a part asked for itself is returned as it is, never cut again."""
        if self.shard.check_part(part, parts, "transactions"):
            return self
        b = weighted_bounds(self.rows.indptr, parts)
        start, stop = int(b[part]), int(b[part + 1])
        ptr = self.rows.indptr[start:stop + 1]
        return Transactions(csr(ptr - ptr[0], self.rows.indices[ptr[0]:ptr[-1]]), self.labels,
                            Shard(start, self.n_rows, part, parts))

    def to_lists(self, labels: bool = True) -> list[list]:
        """Rows as Python lists (of labels, or of column ids)."""
        out = []
        for i in range(self.n_rows):
            r = self.row(i)
            out.append([self.labels[j] for j in r] if labels else r.tolist())
        return out

    def validate(self, where: str = "transactions") -> "Transactions":
        """Check the CSR invariants; raise :class:`InputError` naming ``where`` if broken.

        Row pointers start at 0, never decrease and end at len(indices); indices lie in
        0..n_items-1 and are strictly increasing within each row (sorted, no duplicates).
        """
        from ..kernels.sparse import csr_defect  # Numba: one fused pass, loaded on first check
        defect = csr_defect(self.rows.indptr, self.rows.indices, self.n_items)
        if defect == 1:
            raise InputError(f"{where}: row pointers are not a valid CSR index")
        if defect == 2:
            raise InputError(f"{where}: item index out of range 0..{self.n_items - 1}")
        if defect == 3:
            raise InputError(f"{where}: items are not sorted and unique within each transaction")
        return self


def _csr(rows: np.ndarray, cols: np.ndarray, n_rows: int) -> Csr:
    """CSR from (row, col) pairs: rows sorted, columns sorted and de-duplicated per row."""
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order]
    if len(rows) > 1:
        keep = np.ones(len(rows), dtype=bool)
        keep[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        rows, cols = rows[keep], cols[keep]
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    return csr(indptr, cols.astype(np.int32))


def _sorted_labels(items) -> tuple[np.ndarray, dict]:
    uniq = set(items)
    try:
        ordered = sorted(uniq)
    except TypeError:  # mixed types: order by text, deterministically
        ordered = sorted(uniq, key=lambda x: (type(x).__name__, str(x)))
    if all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in ordered):
        labels = np.array(ordered, dtype=np.int64)
    else:
        labels = np.empty(len(ordered), dtype=object)
        labels[:] = ordered
    return labels, {x: i for i, x in enumerate(ordered)}


def _missing(x) -> bool:
    return x is None or (isinstance(x, (float, np.floating)) and x != x)


def from_lists(transactions) -> Transactions:
    """Transactions from an iterable of iterables of hashable items (labels sorted).

    Missing values (None, NaN: the empty cells of a padded table) are skipped.
    """
    if isinstance(transactions, (str, bytes)):
        raise TypeError("a string is not a list of transactions")
    rows_items = [[x for x in t if not _missing(x)] for t in transactions]
    flat = [x for t in rows_items for x in t]
    labels, code = _sorted_labels(flat)
    rows = np.repeat(np.arange(len(rows_items), dtype=np.int64), [len(t) for t in rows_items])
    cols = np.fromiter((code[x] for x in flat), dtype=np.int64, count=len(flat))
    return Transactions(_csr(rows, cols, len(rows_items)), labels)


def from_onehot(df) -> Transactions:
    """Transactions from a one-hot DataFrame (bool or 0/1, dense or sparse) as mlxtend takes."""
    import pandas as pd
    if not isinstance(df, pd.DataFrame):
        raise InputError("expected a pandas DataFrame")
    if df.columns.has_duplicates:
        dup = df.columns[df.columns.duplicated()][0]
        raise InputError(f"duplicate item column {dup!r} in the one-hot DataFrame")
    labels = np.empty(df.shape[1], dtype=object)
    labels[:] = list(df.columns)
    if df.shape[1] and all(isinstance(c, (int, np.integer)) for c in df.columns):
        labels = np.asarray(list(df.columns), dtype=np.int64)
    is_sparse = df.shape[1] > 0 and all(isinstance(t, pd.SparseDtype) for t in df.dtypes)
    if is_sparse:
        mat = df.sparse.to_coo().tocsr()
        vals = mat.data
    else:
        mat = None
        vals = df.to_numpy()
    _check_boolean(vals)
    if is_sparse:
        mat.data = mat.data.astype(bool)
        mat.eliminate_zeros()
        mat.sort_indices()
        return Transactions(csr(mat.indptr, mat.indices), labels)
    rows, cols = np.nonzero(vals.astype(bool))
    return Transactions(_csr(rows.astype(np.int64), cols.astype(np.int64), df.shape[0]), labels)


def _check_boolean(values: np.ndarray) -> None:
    if values.dtype == bool:
        return
    if values.size and not np.isin(values, [0, 1]).all():
        bad = values[~np.isin(values, [0, 1])].reshape(-1)[0]
        bad = bad.item() if isinstance(bad, np.generic) else bad
        raise InputError("The allowed values for a DataFrame are True, False, 0, 1. "
                         f"Found value {bad!r}")


def read_fimi(path) -> Transactions:
    """FIMI ``.dat``: one transaction per line, non-negative integer ids separated by blanks.

    Every line is a transaction (an empty line is an empty transaction).
    """
    data = _read_bytes(path)
    lines = data.splitlines()
    lengths = np.fromiter((len(line.split()) for line in lines), dtype=np.int64, count=len(lines))
    tokens = data.split()
    if not all(t.isdigit() and len(t) <= 18 for t in tokens):  # ASCII digits only, < 10**18
        bad = next(i for i, line in enumerate(lines)
                   if not all(t.isdigit() and len(t) <= 18 for t in line.split()))
        raise InputError(f"{path}: line {bad + 1}: item ids must be non-negative integers "
                         f"(FIMI format), got {lines[bad][:60].decode('utf-8', 'replace')!r}")
    ids = np.array(tokens, dtype=np.int64) if tokens else np.zeros(0, np.int64)
    labels, cols = np.unique(ids, return_inverse=True)
    rows = np.repeat(np.arange(len(lines), dtype=np.int64), lengths)
    return Transactions(_csr(rows, cols.astype(np.int64).reshape(-1), len(lines)),
                        labels.astype(np.int64))


def read_baskets_csv(path, header: bool | None = None) -> Transactions:
    """Basket CSV: each row one transaction, each non-empty cell one item (padding allowed).

    ``header=None`` detects the pandas-index header ``0,1,...,k-1`` that the circulating
    teaching files carry; pass True/False to force it. Blank lines are skipped (as pandas
    does); a row of empty cells is an empty transaction. Cells may be quoted.
    """
    text = _read_text(path)
    try:
        rows = [r for r in csv.reader(io.StringIO(text, newline="")) if r]
    except csv.Error as exc:
        raise InputError(f"{path}: malformed CSV ({exc})") from None
    if rows and (header or (header is None and rows[0] == [str(i) for i in range(len(rows[0]))])):
        rows = rows[1:]
    baskets = [[c.strip() for c in r if c.strip()] for r in rows]
    if not baskets:
        raise InputError(f"{path}: no transactions")
    return from_lists(baskets)


def read_onehot_csv(path) -> Transactions:
    """One-hot CSV: a header of item names, then one 0/1 (or True/False) row per transaction."""
    import pandas as pd
    data = _read_bytes(path)
    try:
        header = next(csv.reader(io.StringIO(data.decode("utf-8-sig", "replace"), newline="")), [])
    except csv.Error as exc:
        raise InputError(f"{path}: malformed one-hot CSV ({exc})") from None
    if len(set(header)) != len(header):   # pandas would rename the second one silently
        dup = next(c for c in header if header.count(c) > 1)
        raise InputError(f"{path}: duplicate item column {dup!r} in the one-hot header")
    try:
        df = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    except Exception as exc:  # noqa: BLE001 - pandas raises many kinds on malformed text
        raise InputError(f"{path}: malformed one-hot CSV ({str(exc).splitlines()[0]})") from None
    cells = df.apply(lambda col: col.str.strip().str.lower()).to_numpy(dtype=object)
    bad = ~np.isin(cells, ["0", "1", "true", "false"])
    if bad.any():
        raise InputError(f"{path}: The allowed values for a DataFrame are True, False, 0, 1. "
                         f"Found value {df.to_numpy()[bad][0]}")
    try:
        return from_onehot(pd.DataFrame(np.isin(cells, ["1", "true"]), columns=df.columns))
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None


def _read_bytes(path) -> bytes:
    path = Path(path)
    data = read_regular_bytes(path, "transactions")
    if not data.strip():
        raise InputError(f"{path}: empty file")
    if b"\x00" in data:   # no text format has it, and HDF5 strings could not keep it
        raise InputError(f"{path}: binary data, not a text file")
    return data


def _read_text(path) -> str:
    try:
        return _read_bytes(path).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None


# -- HDF5 ------------------------------------------------------------------------------------

def item_dtype(n_items: int) -> np.dtype:
    """The dtype of stored item codes: uint16 when every code (0..n_items-1) fits it, which
    halves the file's largest dataset and what every partitioned read moves; else int32."""
    return np.dtype(np.uint16 if n_items <= NARROW_ITEMS else np.int32)


def pointer_dtype(nnz: int) -> np.dtype:
    """The dtype of stored row pointers: uint32 when every pointer (0..nnz) fits it, which
    halves them (a FIMI file of ~10 items a row, uint16 codes: 429 -> 365 MB at 16M rows,
    bytes every writer writes and every rename frees); else int64."""
    return np.dtype(np.uint32 if nnz <= NARROW_POINTERS else np.int64)


def write_h5(tx: Transactions, path, comm=None) -> Path | None:
    """Write transactions to an hpcrec HDF5 file, atomically: the whole set, or under
    ``comm`` every rank's part (parts in rank order, as the parallel readers give them).
    Item codes are stored as :func:`item_dtype`, row pointers as :func:`pointer_dtype`
    (narrowed block by block as written)."""
    comm = comm or serial()
    rows = comm.allgather_counts(tx.n_rows)
    nnz = comm.allgather_counts(tx.nnz)
    before = int(nnz[:comm.rank].sum())
    ptr = tx.indptr[0 if comm.rank == 0 else 1:]    # rank r > 0 continues r - 1's last
    return h5slices.write(path, KIND, {"item_labels": hdf5.label_data(tx.labels)},
                          {"indptr": ptr, "indices": tx.indices[tx.indptr[0]:tx.indptr[-1]]},
                          attrs={"n_transactions": int(rows.sum()), "n_items": tx.n_items},
                          comm=comm, add={"indptr": before - int(tx.indptr[0])},
                          dtypes={"indices": item_dtype(tx.n_items), "indptr": pointer_dtype(int(nnz.sum()))})


def _split_rows(indptr_ds, n: int, parts: int) -> np.ndarray:
    """:func:`weighted_bounds` over the file's row pointers, searched on disk: a rank reads
    about ``parts * (log2(n) + SEARCH_SPAN)`` pointers, not all ``n + 1`` (at 100M rows
    800 MB, plus the float64 copy that ``searchsorted`` makes of them for each part).

    Same split points as ``weighted_bounds(indptr, parts)``, and the same on every rank.
    """
    total = int(indptr_ds[n])
    if n == 0 or total <= 0:   # no items: rows split evenly (nothing big to read)
        return weighted_bounds(np.zeros(n + 1, np.int64), parts)
    targets = (np.arange(1, parts, dtype=np.float64) * total) / parts
    inner = []
    for t in targets:          # first pointer >= t (searchsorted's "left"), in [0, n + 1]
        lo, hi = 0, n + 1
        while hi - lo > SEARCH_SPAN:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if indptr_ds[mid] >= t else (mid + 1, hi)
        inner.append(lo + int(np.searchsorted(indptr_ds[lo:min(hi, n + 1)], t, side="left")))
    bounds = np.concatenate(([0], np.clip(np.array(inner, np.int64), 0, n), [n])).astype(np.int64)
    return np.maximum.accumulate(bounds)


def read_h5(path, part: int = 0, parts: int = 1) -> Transactions:
    """Read part ``part`` of ``parts`` (rows balanced by non-zeros) of an HDF5 transaction
    file (default: all of it).

    Under MPI every rank opens the file read-only and reads only its own rows: the split
    points are searched in the row pointers on disk (:func:`_split_rows`), then the rank
    reads its slice of ``indptr`` and of ``indices``. Each rank checks its slice; the
    slices cover every pair of neighboring row pointers, so a broken index is found on
    some rank (a collective caller brings the others down with it).
    """
    if not 0 <= part < parts:
        raise ValueError(f"invalid part {part} of {parts}")
    with hdf5.open_checked(path, KIND) as fh:
        n = hdf5.attr_int(fh, "n_transactions")
        n_items = hdf5.attr_int(fh, "n_items")
        indptr_ds = hdf5.dataset(fh, "indptr", "iu", length=n + 1 if n >= 0 else None)
        labels_ds = hdf5.dataset(fh, "item_labels", "iuO", length=n_items if n_items >= 0 else None)
        hdf5.check_read(path, 16 * labels_ds.size)
        labels = hdf5.read_ids(labels_ds)
        n = indptr_ds.size - 1
        if n < 0 or indptr_ds[0] != 0:
            raise InputError(f"{path}: row pointers are not a valid CSR index")
        total = int(indptr_ds[n])
        indices_ds = hdf5.dataset(fh, "indices", "iu", length=total)
        b = _split_rows(indptr_ds, n, parts)
        lo, hi = int(b[part]), int(b[part + 1])
        hdf5.check_read(path, 8 * (hi - lo + 1))
        ptr = _read_widened(indptr_ds, lo, hi + 1, np.int64).astype(np.int64, copy=False)
        if not 0 <= ptr[0] <= ptr[-1] <= total:
            raise InputError(f"{path}: row pointers are not a valid CSR index")
        hdf5.check_read(path, 8 * int(ptr[-1] - ptr[0]))
        indices = _read_widened(indices_ds, int(ptr[0]), int(ptr[-1]), np.int32)
    tx = Transactions(csr(ptr - ptr[0], indices), labels, Shard(lo, n, part, parts))
    return tx.validate(str(path))


def _read_widened(ds, lo: int, hi: int, dtype) -> np.ndarray:
    """Values ``lo:hi`` of the integer dataset ``ds`` as ``dtype`` (int32 item codes, int64
    row pointers): values stored narrower (uint16 codes, uint32 pointers: see
    :func:`item_dtype`, :func:`pointer_dtype`) are widened by HDF5 while it reads them,
    straight into the array the rows keep (through its small conversion buffer: no second
    full-size array); others are read as they are stored (the rows convert them, as for
    every file before)."""
    if ds.dtype.itemsize >= np.dtype(dtype).itemsize:
        return ds[lo:hi]
    out = np.empty(hi - lo, dtype=dtype)
    if hi > lo:
        ds.read_direct(out, np.s_[lo:hi])
    return out
