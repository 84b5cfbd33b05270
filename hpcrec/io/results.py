"""Itemset and rule files: CSV, Parquet or HDF5, chosen by the output's suffix.

CSV: a header, then one row per itemset: ``support`` (shortest round-trip float),
``itemsets`` (item labels joined by ``|``; a ``|`` or ``\\`` inside a label is written
``\\|`` / ``\\\\``, so the separator never occurs unescaped), ``count`` (transactions).
A label cell that begins with ``= + - @``, a tab, a carriage return or ``'`` gets one
leading ``'`` (spreadsheets then show text, never run a formula); hpcrec's reader drops
one leading ``'`` from every label cell, so labels round-trip unchanged.
Run metadata (``n_transactions``, ``partial``, ``levels``, algorithm, min_support,
max_len) go to a JSON sidecar ``OUT.csv.meta.json`` that also holds the SHA-256 of the
CSV it belongs to: both are written completely (the CSV streamed in chunks of rows), then
the sidecar is renamed first, the CSV second, and a reader refuses a pair whose checksum
disagrees (two runs, e.g. after a kill between the renames). When the sidecar is
missing, the number of transactions is recovered exactly as ``round(count / support)``. Parquet keeps the
itemsets as lists of strings and the metadata under the schema key ``hpcrec``; HDF5
(kind ``itemsets`` / ``rules``) keeps them as root attributes; the datasets are stored
uncompressed and, for itemsets, written by all ranks at once, each its block
(:func:`write_itemsets_h5`): gzip ran at 19-26 MB/s on one core, 5.7 s of the 6.4 s that writing 1.8 M
itemsets took, against 0.7 s for a 6.5x larger file (benchmarks/README.md, "2 ranks on
dense data"); ``h5repack -f GZIP=1`` compresses a file that is to be kept. Rules files have
``antecedents``, ``consequents`` and the metric columns. Writers are atomic; callers
write on rank 0 only, except the collective HDF5 itemset writer.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..core.comm import Comm, serial
from ..core.errors import InputError
from ..core.memory import check_memory
from . import h5slices, hdf5, jsontext
from .atomic import atomic_path, write_bytes
from .inputs import check_regular, read_regular_bytes

if TYPE_CHECKING:   # the file format depends on the result's arrays only, not on fim
    from ..fim.result import Itemsets

SEP, ESC = "|", "\\"
FORMULA_START, QUOTE = ("=", "+", "-", "@", "\t", "\r", "'"), "'"
SUFFIXES = (".csv", ".parquet", ".h5", ".hdf5")


def join_items(labels) -> str:
    """Labels joined by ``|`` with ``\\`` and ``|`` escaped."""
    return SEP.join(str(x).replace(ESC, ESC + ESC).replace(SEP, ESC + SEP) for x in labels)


def split_items(text: str) -> list[str]:
    """Inverse of :func:`join_items`."""
    items, cur, it = [], [], iter(text)
    for ch in it:
        if ch == ESC:
            nxt = next(it, None)
            if nxt is None:
                raise InputError(f"itemset {text!r} ends with an unpaired escape '\\'")
            cur.append(nxt)
        elif ch == SEP:
            items.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    items.append("".join(cur))
    return items


def label_cell(text: str) -> str:
    """A CSV label cell, neutralised for spreadsheets (see the module docstring)."""
    return QUOTE + text if text.startswith(FORMULA_START) else text


def cell_label(text: str) -> str:
    """Inverse of :func:`label_cell`."""
    return text[1:] if text.startswith(QUOTE) else text


def csv_row(cells: list[str]) -> str:
    """One CSV line (``\\n``-terminated). Unlike ``csv.writer`` with ``\\n`` lines, a cell
    holding a bare ``\\r`` is quoted too, so every reader gives the label back unchanged."""
    return ",".join('"' + c.replace('"', '""') + '"' if any(ch in c for ch in ',"\r\n') else c
                    for c in cells) + "\n"


def output_kind(path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"{path}: output must end in {', '.join(SUFFIXES)}")
    return "hdf5" if suffix in (".h5", ".hdf5") else suffix[1:]


def meta_path(path) -> Path:
    return Path(f"{path}.meta.json")


def _fmt(x: float) -> str:
    return repr(float(x))


def itemset_meta(res: Itemsets) -> dict:
    info = res.info
    return {"n_transactions": int(res.n_transactions), "partial": bool(res.partial),
            "levels": int(res.levels), "algorithm": info.get("algorithm"),
            "min_support": info.get("min_support"), "max_len": info.get("max_len")}


ROWS_PER_CHUNK = 1 << 16
# Python lists of label strings (Parquet's input) cost about this much per item and itemset.
LIST_BYTES_PER_ITEM, LIST_BYTES_PER_SET = 80, 120


def _label_lists(res: Itemsets, start: int = 0, stop: int | None = None,
                 names: list[str] | None = None) -> list[list[str]]:
    names = names if names is not None else [str(x) for x in np.asarray(res.labels).tolist()]
    stop = len(res) if stop is None else stop
    ptr = res.ptr[start:stop + 1].tolist()
    flat = res.items[ptr[0]:ptr[-1]].tolist()
    base = ptr[0]
    return [[names[i] for i in flat[ptr[x] - base:ptr[x + 1] - base]] for x in range(stop - start)]


def _write_csv(tmp: Path, res: Itemsets) -> str:
    """Stream the itemset CSV into ``tmp`` in chunks of rows; returns its SHA-256."""
    digest = hashlib.sha256()
    names = [str(x) for x in np.asarray(res.labels).tolist()]
    support, counts = res.support, res.counts
    def chunks():
        yield csv_row(["support", "itemsets", "count"])
        for start in range(0, len(res), ROWS_PER_CHUNK):
            stop = min(len(res), start + ROWS_PER_CHUNK)
            yield "".join(csv_row([_fmt(s), label_cell(join_items(items)), str(c)])
                          for s, items, c in zip(support[start:stop].tolist(),
                                                 _label_lists(res, start, stop, names),
                                                 counts[start:stop].tolist()))

    with open(tmp, "wb") as fh:
        for chunk in chunks():
            data = chunk.encode("utf-8")
            digest.update(data)
            fh.write(data)
    return digest.hexdigest()


def used_labels(items: np.ndarray, n_labels: int,
                comm: Comm | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """The labels the itemsets use (ascending) and the table renumbering items into them
    (int32: ``table[item]`` is the item's position among the used labels; None when every
    label is used), so that ``used, table[items]`` is ``np.unique(items,
    return_inverse=True)``: one compiled pass over the items (:mod:`hpcrec.kernels.relabel`;
    a sort of every item took 6 s on 40 M items, ``np.bincount`` and a gather 4.7 s on 64
    M: benchmarks/README.md, "2 ranks on dense data"). The renumbering itself is left to
    the writer, block by block (:func:`write_itemsets_h5`). With ``comm`` (collective), the
    labels used by any rank's ``items``."""
    from ..kernels import relabel
    flags = relabel.used(np.ascontiguousarray(items), n_labels)
    if comm is not None:
        flags = comm.allreduce(flags.view(np.uint8), "max")
    used = np.flatnonzero(flags)
    if len(used) == n_labels:
        return used, None
    table = np.zeros(n_labels, np.int32)
    table[used] = np.arange(len(used), dtype=np.int32)
    return used, table


def write_itemsets(path, res: Itemsets, comm: Comm | None = None) -> Path | None:
    """Write mined itemsets (rows in the result's canonical order) atomically.

    With ``comm`` (collective: every rank calls it), an HDF5 file is written by all ranks
    at once: ``res`` on each rank is its block of the canonical order (rank 0's first;
    ``mine_itemsets(..., result_on="blocks")``), and each rank writes its block's items,
    offsets, supports and counts at their byte offsets (:func:`write_itemsets_h5`). CSV
    and Parquet are written by rank 0 from its ``res``, which must then hold them all
    (``result_on="root"``); a failure there is raised on every rank. Returns the path on
    rank 0, None elsewhere."""
    kind = output_kind(path)
    if kind == "hdf5":
        return write_itemsets_h5(path, res, comm or serial())
    if comm is None:
        return _write_table(path, res, kind)
    with comm.collective_errors():
        out = _write_table(path, res, kind) if comm.is_root else None
    return out


def _write_table(path, res: Itemsets, kind: str) -> Path:
    """The CSV (with its sidecar) or Parquet file of ``res``, from one rank."""
    meta = itemset_meta(res)
    support = res.support
    if kind == "parquet":
        check_memory(LIST_BYTES_PER_ITEM * len(res.items) + LIST_BYTES_PER_SET * len(res),
                     f"the Parquet table of {len(res)} itemsets",
                     "write .csv (streamed) or .h5 instead, or raise min_support")
        _write_parquet(path, {"support": support, "itemsets": _label_lists(res),
                              "count": res.counts}, meta)
        return Path(path)
    # Both complete before either rename; the sidecar is renamed first (inner block), so a
    # kill between the two renames leaves a pair whose checksum readers refuse.
    with atomic_path(path) as csv_tmp:
        meta["csv_sha256"] = _write_csv(csv_tmp, res)
        with atomic_path(meta_path(path)) as meta_tmp:
            meta_tmp.write_bytes(jsontext.dumps(meta, indent=1, sort_keys=True).encode())
    return Path(path)


def write_itemsets_h5(path, res: Itemsets, comm: Comm) -> Path | None:
    """The HDF5 itemset file from every rank's block (collective; see
    :func:`write_itemsets`). Nothing is gathered, and nothing is copied whole: the file
    opens from the blocks' lengths alone (:class:`hpcrec.io.h5slices.Slices`), the row
    offsets (shifted by the previous ranks' items), counts and supports (``count / n``)
    go to the writer threads first, each block derived as it is written, while this
    thread flags the labels the block uses (:func:`used_labels`, one pass, then one
    reduction); then the items, renumbered into the used labels block by block. Rank 0
    writes the metadata and labels, each rank its pieces with ``pwrite``; CRC-32s
    combined; one rename; a failure on any rank is one error on all and no file. The
    bytes do not depend on the number of ranks."""
    sizes = comm.allgather_counts(len(res.items))
    ptr = res.ptr if comm.rank == comm.size - 1 else res.ptr[:-1]   # the last offset, once
    counts = np.asarray(res.counts)
    shapes = {"items": (np.int32, len(res.items)), "ptr": (ptr.dtype, len(ptr)),
              "support": (np.float64, len(counts)), "count": (counts.dtype, len(counts))}
    with h5slices.Slices(path, "itemsets", shapes, comm) as out:
        out.put("ptr", ptr, add=int(sizes[:comm.rank].sum()))
        out.put("count", counts)
        out.put("support", counts, convert=_support(res.n_transactions))
        used, table = used_labels(res.items, len(res.labels), comm)
        out.put("items", res.items, convert=None if table is None else _renumber(table))
        labels = hdf5.label_data(np.asarray(res.labels)[used]) if len(used) else np.zeros(0, np.int64)
        return out.close({"labels": labels}, {k: jsontext.dumps(v) for k, v in itemset_meta(res).items()})


def _support(n: int):
    """A block's supports from its counts, as :attr:`Itemsets.support` computes them."""
    def convert(counts: np.ndarray, out: np.ndarray) -> np.ndarray:
        if n:
            return np.divide(counts, float(n), out=out)
        out[:] = 0
        return out
    return convert


def _renumber(table: np.ndarray):
    """A block's items renumbered through ``table`` (:func:`used_labels`)."""
    from ..kernels import relabel
    def convert(items: np.ndarray, out: np.ndarray) -> np.ndarray:
        relabel.renumber(items, table, out)
        return out
    return convert


def _write_parquet(path, columns: dict, meta: dict) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    table = pa.table(columns)
    table = table.replace_schema_metadata({"hpcrec": jsontext.dumps(meta)})
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def write_rules(path, ants: list, cons: list, values: dict, meta: dict) -> Path:
    """Write rules (antecedent and consequent label lists, metric arrays) atomically."""
    kind = output_kind(path)
    ants = [[str(x) for x in a] for a in ants]
    cons = [[str(x) for x in c] for c in cons]
    if kind == "hdf5":
        data = {}
        for name, lists in (("antecedents", ants), ("consequents", cons)):
            data[f"{name}_items"] = np.array([x for lst in lists for x in lst], dtype=hdf5.string_dtype())
            data[f"{name}_ptr"] = np.concatenate(([0], np.cumsum([len(x) for x in lists]))).astype(np.int64)
        for name, column in values.items():
            data[f"metric/{name}"] = np.asarray(column, dtype=float)
        hdf5.write_h5(path, "rules", data, attrs={k: jsontext.dumps(v) for k, v in meta.items()})
        return Path(path)
    if kind == "parquet":
        _write_parquet(path, {"antecedents": ants, "consequents": cons,
                              **{k: np.asarray(v, float) for k, v in values.items()}}, meta)
        return Path(path)
    lines = [csv_row(["antecedents", "consequents", *values])]
    columns = [np.asarray(v, float).tolist() for v in values.values()]
    for r, (a, c) in enumerate(zip(ants, cons)):
        lines.append(csv_row([label_cell(join_items(a)), label_cell(join_items(c)),
                              *(_fmt(col[r]) for col in columns)]))
    write_bytes(path, "".join(lines).encode("utf-8"))
    return Path(path)


def read_itemsets(path) -> tuple[list[tuple], np.ndarray, dict]:
    """Itemsets (label tuples, in file order), supports and metadata from an itemset file."""
    path = Path(path)
    check_regular(path)
    if path.suffix.lower() not in SUFFIXES:
        raise InputError(f"{path}: an itemset file ends in {', '.join(SUFFIXES)}")
    kind = output_kind(path)
    if kind == "hdf5":
        with hdf5.open_checked(path, "itemsets") as fh:
            labels = [str(x) for x in hdf5.read_ids(hdf5.dataset(fh, "labels", "iuO"))]
            support = hdf5.dataset(fh, "support", "f")[()]
            ptr = hdf5.dataset(fh, "ptr", "iu", length=len(support) + 1)[()]
            items = hdf5.dataset(fh, "items", "iu", length=int(ptr[-1]) if len(ptr) else 0)[()]
            meta = {k: json.loads(hdf5.attr_str(v)) for k, v in fh.attrs.items()
                    if k in ("n_transactions", "partial", "levels", "algorithm", "min_support", "max_len")}
        if len(items) and (items.min() < 0 or items.max() >= len(labels)) or np.any(np.diff(ptr) < 0):
            raise InputError(f"{path}: damaged itemset file (item index out of range)")
        sets = [tuple(labels[i] for i in items[ptr[x]:ptr[x + 1]]) for x in range(len(support))]
        return sets, _checked_support(path, support), meta
    if kind == "parquet":
        return _read_parquet(path)
    raw = read_regular_bytes(path, "itemsets")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    try:   # newline="": line breaks inside quoted labels (and U+2028, U+0085) stay in the label
        rows = [r for r in csv.reader(io.StringIO(text, newline="")) if r]
    except csv.Error as exc:
        raise InputError(f"{path}: malformed CSV ({exc})") from None
    if not rows or "support" not in rows[0] or "itemsets" not in rows[0]:
        raise InputError(f"{path}: not an itemset CSV (needs the columns 'support' and 'itemsets')")
    head = rows[0]
    si, ii = head.index("support"), head.index("itemsets")
    ci = head.index("count") if "count" in head else None
    sets, support, counts = [], [], []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(head):
            raise InputError(f"{path}: line {line}: {len(row)} fields, the header has {len(head)}")
        try:
            support.append(float(row[si]))
            if ci is not None:
                counts.append(int(row[ci]))
            sets.append(tuple(split_items(cell_label(row[ii]))))
        except ValueError as exc:
            detail = exc if isinstance(exc, InputError) else "support/count is not a number"
            raise InputError(f"{path}: line {line}: {detail}") from None
    support = _checked_support(path, np.array(support, dtype=float))
    meta = {}
    if meta_path(path).exists():
        meta = _meta(meta_path(path), read_regular_bytes(meta_path(path), "metadata"))
        digest = meta.pop("csv_sha256", None)
        if digest is not None and digest != hashlib.sha256(raw).hexdigest():
            raise InputError(f"{meta_path(path)}: belongs to another run than {path} (checksum "
                             "differs); rerun 'hpcrec mine' or delete the stale file")
    if "n_transactions" not in meta and ci is not None and len(counts):
        meta["n_transactions"] = _n_from_counts(path, np.array(counts), support)
    return sets, support, meta


def _n_from_counts(path, counts: np.ndarray, support: np.ndarray) -> int:
    """The number of transactions, exactly: support = count / n rounds back to n."""
    if np.any(counts <= 0) or np.any(support <= 0):
        raise InputError(f"{path}: counts and supports must be positive")
    n = np.rint(counts / support)
    if np.any(n != n[0]):
        raise InputError(f"{path}: counts and supports disagree on the number of transactions")
    return int(n[0])


def _meta(where, raw: bytes) -> dict:
    """Run metadata from JSON bytes (a sidecar file or Parquet's schema key)."""
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        meta = None
    if not isinstance(meta, dict):
        raise InputError(f"{where}: metadata is not a JSON object")
    return meta


def _checked_support(path, support: np.ndarray) -> np.ndarray:
    if np.any(~np.isfinite(support)) or np.any(support <= 0) or np.any(support > 1):
        raise InputError(f"{path}: supports must lie in (0, 1]")
    return support


def _read_parquet(path):
    import pyarrow.parquet as pq
    try:
        table = pq.read_table(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several kinds on damaged files
        raise InputError(f"{path}: unreadable Parquet file ({str(exc).splitlines()[0]})") from None
    if "support" not in table.column_names or "itemsets" not in table.column_names:
        raise InputError(f"{path}: not an itemset file (needs the columns 'support' and 'itemsets')")
    raw = (table.schema.metadata or {}).get(b"hpcrec")
    meta = _meta(path, raw) if raw else {}
    try:
        support = np.asarray(table.column("support").to_numpy(), dtype=float)
        sets = [tuple(str(x) for x in s) for s in table.column("itemsets").to_pylist()]
    except (TypeError, ValueError):
        raise InputError(f"{path}: 'support' must hold numbers and 'itemsets' lists of items") from None
    support = _checked_support(path, support)
    if "n_transactions" not in meta and "count" in table.column_names:
        counts = table.column("count").to_numpy()
        if counts.dtype.kind not in "iu":
            raise InputError(f"{path}: 'count' must hold integers")
        meta["n_transactions"] = _n_from_counts(path, counts, support)
    return sets, support, meta
