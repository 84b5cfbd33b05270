"""Ratings from Parquet: each rank reads its own row groups (needs pyarrow, the ``parquet`` extra).

Columns: user, item, rating and optionally timestamp, found by name (``user``/``userId``,
``item``/``movieId``/``itemId``, ``rating``, ``timestamp``; case-insensitive). Ids follow
the rules of the text readers: integer columns are int64 ids; string columns are text ids,
which take the serial path (rank 0 reads the whole file); floating-point ids must hold
integers. Rank r of p reads row groups ``chunk(groups, r, p)``; the global id dictionary
is built as for text (:func:`.textscan.factorize`).
"""
from __future__ import annotations

import numpy as np

from ..core.comm import Comm, chunk
from ..core.errors import InputError
from ..core.memory import check_memory
from . import textscan
from .inputs import check_regular
from .ratings import Ratings, from_arrays

COLUMNS = {"user": ("user", "userid", "user_id"), "item": ("item", "itemid", "movieid", "item_id"),
           "rating": ("rating",), "timestamp": ("timestamp",)}


def _open(path):
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError("reading Parquet needs pyarrow: pip install 'hpcrec[parquet]'") from None
    check_regular(path)
    try:
        return pq.ParquetFile(str(path))
    except Exception as exc:  # noqa: BLE001 - pyarrow's errors for a damaged file vary
        raise InputError(f"{path}: not a readable Parquet file ({str(exc).splitlines()[0]})") from None


def _names(pf, path) -> dict:
    have = {name.lower(): name for name in pf.schema_arrow.names}
    found = {}
    for key, options in COLUMNS.items():
        name = next((have[o] for o in options if o in have), None)
        if name is None and key != "timestamp":
            raise InputError(f"{path}: no {key} column (columns: {', '.join(pf.schema_arrow.names)})")
        if name is not None:
            found[key] = name
    return found


def _column(table, name, path, key) -> np.ndarray:
    col = table.column(name)
    if col.null_count:
        raise InputError(f"{path}: {key} column has missing values")
    values = col.to_numpy()
    if key in ("user", "item", "timestamp") and values.dtype.kind == "f":
        if np.any(~np.isfinite(values)) or np.any(values != np.round(values)) \
                or np.any(np.abs(values) >= 2.0 ** 53):
            raise InputError(f"{path}: {key} column holds non-integer numbers")
        values = values.astype(np.int64)
    return values


def read_ratings(path, comm: Comm) -> Ratings:
    """This rank's ratings (its row groups) of a Parquet file, ids global over all ranks."""
    with comm.collective_errors():
        pf = _open(path)
        names = _names(pf, path)
        groups = range(*chunk(pf.num_row_groups, comm.rank, comm.size))
        rows = sum(pf.metadata.row_group(g).num_rows for g in groups)
        check_memory(rows * 48, f"reading {path}", "read it with more ranks or on a node with more memory")
        table = pf.read_row_groups(list(groups), columns=list(names.values())) if len(groups) else None
        cols = {k: (_column(table, n, path, k) if table is not None else np.zeros(0, np.int64))
                for k, n in names.items()}
        text_ids = any(cols[k].dtype.kind not in "iu" for k in ("user", "item"))
        if any(len(cols[k]) and cols[k].dtype.kind == "u" and cols[k].max() > np.iinfo(np.int64).max
               for k in ("user", "item")):
            text_ids = True                       # beyond int64: kept as text, as from_arrays does
    if comm.allreduce_scalar(int(text_ids)):
        return _serial(path, names, comm)
    with comm.collective_errors():
        try:
            rating = np.asarray(cols["rating"], dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(f"{path}: the rating column does not hold numbers") from None
        bad = ~np.isfinite(rating) | (np.abs(rating) > np.finfo(np.float32).max)
        if bad.any():
            raise InputError(f"{path}: rating {rating[bad][0]} is not a finite float32 number")
    user_ids, user = textscan.factorize([cols["user"].astype(np.int64)], comm)
    item_ids, item = textscan.factorize([cols["item"].astype(np.int64)], comm)
    r = Ratings(user, item, rating, cols.get("timestamp"), user_ids, item_ids,
                meta={"source": "parquet"})
    r.shard = textscan.shard_of(r.nnz, comm)
    return r.validate(str(path))


def _serial(path, names, comm: Comm) -> Ratings:
    """Text ids: every rank reads the whole file (the id table is built from all of it)."""
    with comm.collective_errors():
        table = _open(path).read(columns=list(names.values()))
        cols = {k: _column(table, n, path, k) for k, n in names.items()}
        r = from_arrays(cols["user"], cols["item"], cols["rating"], cols.get("timestamp"))
    r.meta["source"] = "parquet"
    part = r.part(comm.rank, comm.size)
    part.meta = r.meta
    return part
