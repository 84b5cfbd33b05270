"""Ratings in COO form, and their readers and writers.

A :class:`Ratings` is the only thing that crosses from I/O to the recommenders: parallel
arrays ``user``, ``item`` (int32 indices into ``user_ids`` / ``item_ids``, the raw ids),
``rating`` (float32) and ``timestamp`` (int64), plus item metadata (title, genres).
Models keep the raw-id maps, so a test file converted on its own maps onto a model
trained on another file by raw id.

Ids (documented rule): a column of ids is numeric (int64) only when every cell is an
integer numeral (``[+-]?[0-9]+``, so ``007`` is 7) that fits int64; otherwise every id of that
column is kept as the exact text of its cell, so ``1`` and ``1.0`` are two different ids, and
nothing is parsed through floating point (no wrap at 2**64, no merge above 2**53). MovieLens
files, whose ids are integers by definition, refuse a non-integer id. Ratings must be finite
in float32 (their stored type).

Sources: MovieLens 100K (``u.data``, ``u*.base``/``u*.test``, with ``u.item``/``u.user``
beside them), ml-1m (``ratings.dat``, ``::``), ml-latest-small / ml-25m (``ratings.csv``
+ ``movies.csv``), a generic ``user,item,rating[,timestamp]`` CSV, a DataFrame, COO
arrays, and hpcrec HDF5 (rank slices of equal size).
"""
from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.comm import chunk, serial
from ..core.errors import InputError
from ..core.lazy import lazy_module
from . import h5slices, hdf5
from .inputs import read_regular_bytes
from .shard import Shard, Sharded, whole

KIND = "ratings"


pd = lazy_module("pandas")   # the fast text path never needs pandas


@dataclass
class Ratings(Sharded):
    user: np.ndarray       # int32 index into user_ids
    item: np.ndarray       # int32 index into item_ids
    rating: np.ndarray     # float32
    timestamp: np.ndarray  # int64 (zeros when unknown)
    user_ids: np.ndarray   # raw user ids (int64 or object str), global
    item_ids: np.ndarray   # raw item ids, global
    item_titles: np.ndarray | None = None
    item_genres: np.ndarray | None = None   # "Action|Comedy" per item
    meta: dict = field(default_factory=dict)
    shard: Shard | None = None   # which part of the data set (None: the whole of it)

    def __post_init__(self):
        self.user = np.ascontiguousarray(self.user, dtype=np.int32)
        self.item = np.ascontiguousarray(self.item, dtype=np.int32)
        self.rating = np.ascontiguousarray(self.rating, dtype=np.float32)
        if self.timestamp is None:
            self.timestamp = np.zeros(len(self.rating), dtype=np.int64)
        self.timestamp = np.ascontiguousarray(self.timestamp, dtype=np.int64)
        if self.shard is None:
            self.shard = whole(len(self.rating))

    @property
    def nnz(self) -> int:
        return len(self.rating)

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def subset(self, mask_or_index) -> "Ratings":
        """The ratings selected by a boolean mask or index array (same id maps)."""
        s = mask_or_index
        return Ratings(self.user[s], self.item[s], self.rating[s], self.timestamp[s],
                       self.user_ids, self.item_ids, self.item_titles, self.item_genres,
                       dict(self.meta))

    def part(self, part: int, parts: int) -> "Ratings":
        """Part ``part`` of ``parts`` (equal contiguous shares) of ratings held whole;
        a part asked for itself is returned as it is, never cut again."""
        if self.shard.check_part(part, parts, "ratings"):
            return self
        lo, hi = chunk(self.nnz, part, parts)
        out = self.subset(slice(lo, hi))
        out.shard = Shard(lo, self.nnz, part, parts)
        return out

    def to_frame(self) -> pd.DataFrame:
        """user, item (raw ids), rating, timestamp."""
        return pd.DataFrame({"user": self.user_ids[self.user], "item": self.item_ids[self.item],
                             "rating": self.rating, "timestamp": self.timestamp})

    def validate(self, where: str = "ratings") -> "Ratings":
        n = self.nnz
        if not (len(self.user) == len(self.item) == len(self.timestamp) == n):
            raise InputError(f"{where}: user, item, rating and timestamp arrays differ in length")
        if n and (self.user.min() < 0 or self.user.max() >= self.n_users):
            raise InputError(f"{where}: user index out of range 0..{self.n_users - 1}")
        if n and (self.item.min() < 0 or self.item.max() >= self.n_items):
            raise InputError(f"{where}: item index out of range 0..{self.n_items - 1}")
        bad = ~np.isfinite(self.rating)
        if bad.any():
            raise InputError(f"{where}: rating {self.rating[bad][0]} at entry "
                             f"{self.offset + int(np.flatnonzero(bad)[0]) + 1} is not a finite number")
        return self


def _encode(raw: np.ndarray, known: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Codes of raw ids, and the id table (``known`` if given, else the sorted distinct ids)."""
    if known is None:
        ids, codes = np.unique(raw, return_inverse=True)
        return codes.reshape(-1).astype(np.int32), ids
    if len(np.unique(known)) != len(known):
        raise InputError("the id table beside the ratings lists an id twice")
    if not len(known):
        raise InputError("the id table beside the ratings is empty")
    order = np.argsort(known, kind="stable")
    pos = np.searchsorted(known, raw, sorter=order)
    pos = np.clip(pos, 0, len(known) - 1)
    codes = order[pos]
    missing = known[codes] != raw
    if missing.any():
        raise InputError(f"id {raw[missing][0]} is not in the id table beside the ratings")
    return codes.astype(np.int32), known


def from_arrays(users, items, ratings, timestamps=None, item_titles=None,
                item_genres=None, user_ids=None, item_ids=None) -> Ratings:
    """Ratings from raw-id arrays; id tables are the sorted distinct ids unless given."""
    users, items = np.asarray(users), np.asarray(items)
    try:
        r = np.asarray(ratings, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError("ratings must be numbers") from None
    if users.ndim != 1 or items.ndim != 1 or r.ndim != 1:
        raise InputError("users, items and ratings must be one-dimensional")
    if not (len(users) == len(items) == len(r)):
        raise InputError("users, items and ratings must have the same length")
    u, uids = _encode(_as_ids(users), None if user_ids is None else _as_ids(np.asarray(user_ids)))
    i, iids = _encode(_as_ids(items), None if item_ids is None else _as_ids(np.asarray(item_ids)))
    return Ratings(u, i, r, timestamps, uids, iids, item_titles, item_genres).validate()


def _as_ids(a: np.ndarray) -> np.ndarray:
    if a.dtype.kind == "u" and len(a) and a.max() > INT64_MAX:   # beyond int64: kept as text
        return np.asarray([str(x) for x in a.tolist()], dtype=object)
    if a.dtype.kind in "iu":
        return a.astype(np.int64)
    if a.dtype.kind == "f":
        if np.any(~np.isfinite(a)) or np.any(a != np.round(a)) or np.any(np.abs(a) >= 2.0 ** 53):
            raise InputError("ids must be integers or strings, found a non-integer number")
        return a.astype(np.int64)
    if a.dtype.kind == "b":
        raise InputError("ids must be integers or strings, found booleans")
    if any(_is_missing(x) for x in a):
        raise InputError("ids must be integers or strings, found a missing value (None/NaN)")
    return np.asarray([str(x) for x in a], dtype=object)


def _is_missing(x) -> bool:
    return x is None or (isinstance(x, (float, np.floating)) and x != x)


def from_frame(df: pd.DataFrame, user="user", item="item", rating="rating",
               timestamp="timestamp") -> Ratings:
    """Ratings from a DataFrame with user, item and rating columns (names configurable)."""
    for col in (user, item, rating):
        if col not in df.columns:
            raise InputError(f"DataFrame has no column {col!r} (columns: {', '.join(map(str, df.columns))})")
    ts = df[timestamp].to_numpy() if timestamp in df.columns else None
    vals = pd.to_numeric(df[rating], errors="coerce").to_numpy()
    return from_arrays(df[user].to_numpy(), df[item].to_numpy(), vals, ts)


# -- text readers ---------------------------------------------------------------------------

def _read_table(path, sep: str, names: list[str], header=None, encoding="utf-8",
                engine="c", required: int | None = None) -> pd.DataFrame:
    """A delimited text file as a DataFrame of str columns ``names`` (all cells checked).

    Rows must have ``len(names)`` fields (at least ``required`` when given: the frame then
    has as many columns as the widest row, up to len(names)); a short or long row, an
    empty field, binary data or bad encoding is an :class:`InputError` naming the line.
    Blank lines are skipped.
    """
    path = Path(path)
    data = read_regular_bytes(path, "ratings")
    if not data.strip():
        raise InputError(f"{path}: empty file")
    if b"\x00" in data:
        raise InputError(f"{path}: binary data, not a text file")
    shown = "TAB" if sep == "\t" else repr(sep)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            df = pd.read_csv(io.BytesIO(data), sep=sep, header=header, dtype=str, encoding=encoding,
                             engine=engine, skip_blank_lines=True, keep_default_na=False,
                             index_col=False)
    except pd.errors.ParserWarning:  # pandas' word for rows wider than the header
        raise InputError(f"{path}: a row has more fields than the header") from None
    except pd.errors.ParserError as exc:
        raise InputError(f"{path}: malformed line ({_last_line(exc)})") from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: no ratings") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not {encoding} text (byte {exc.start})") from None
    if df.empty:
        raise InputError(f"{path}: no ratings")
    first_line = 2 if header == 0 else 1
    width = df.shape[1]
    if width > len(names):
        extra = (df.iloc[:, len(names):] != "").to_numpy().any(axis=1)
        if extra.any():
            raise InputError(f"{path}: line {int(np.flatnonzero(extra)[0]) + first_line}: "
                             f"more than {len(names)} fields separated by {shown}")
        df, width = df.iloc[:, :len(names)], len(names)
    need = len(names) if required is None else required
    if width < need:
        raise InputError(f"{path}: line {first_line}: {width} field(s), expected {need} "
                         f"separated by {shown}")
    df.columns = names[:width]
    empty = (df == "").to_numpy().any(axis=1) | df.isna().to_numpy().any(axis=1)
    if empty.any():
        raise InputError(f"{path}: line {int(np.flatnonzero(empty)[0]) + first_line}: missing "
                         f"field (expected {width} fields separated by {shown})")
    return df


def _last_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[-1] if text else type(exc).__name__


def _numeric(df: pd.DataFrame, col: str, path, integer: bool, first_line: int) -> np.ndarray:
    """Column as numbers; the first bad cell is reported with its line number."""
    raw = df[col]
    num = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(num) & (raw.str.strip().str.lower() != "nan").to_numpy()
    if integer:  # exact integers only (float64 holds them exactly below 2**53)
        bad |= ~np.isfinite(num) | (num != np.round(num)) | (np.abs(num) >= 2.0 ** 53)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        kind = "an integer" if integer else "a number"
        raise InputError(f"{path}: line {k + first_line}: {col} {raw.iloc[k]!r} is not {kind}")
    return num


FLOAT32_MAX = float(np.finfo(np.float32).max)


def _check_ratings(path, values: np.ndarray, first_line: int) -> np.ndarray:
    bad = ~np.isfinite(values)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise InputError(f"{path}: line {k + first_line}: rating {values[k]} is not a finite number")
    big = np.abs(values) > FLOAT32_MAX
    if big.any():
        k = int(np.flatnonzero(big)[0])
        raise InputError(f"{path}: line {k + first_line}: rating {values[k]:g} does not fit "
                         "float32, the stored type")
    return values


def _movielens_frame(path, df: pd.DataFrame, first_line: int = 1) -> dict:
    user = _numeric(df, "user", path, True, first_line)
    item = _numeric(df, "item", path, True, first_line)
    rating = _check_ratings(path, _numeric(df, "rating", path, False, first_line), first_line)
    ts = _numeric(df, "timestamp", path, True, first_line) if "timestamp" in df else None
    for name, ids in (("user", user), ("item", item)):
        if len(ids) and ids.min() < 0:
            k = int(np.flatnonzero(ids < 0)[0])
            raise InputError(f"{path}: line {k + first_line}: negative {name} id {int(ids[k])}")
    return {"user": user.astype(np.int64), "item": item.astype(np.int64), "rating": rating,
            "timestamp": None if ts is None else ts.astype(np.int64)}


def read_ml100k(path) -> Ratings:
    """MovieLens 100K ratings (``u.data`` or a ``u*.base``/``u*.test`` split, or its folder)."""
    path = Path(path)
    if path.is_dir():
        path = path / "u.data"
    df = _read_table(path, "\t", ["user", "item", "rating", "timestamp"])
    cols = _movielens_frame(path, df)
    user_ids, item_ids, titles, genres = ml100k_tables(path)
    r = from_arrays(cols["user"], cols["item"], cols["rating"], cols["timestamp"],
                    user_ids=user_ids, item_ids=item_ids)
    r.item_titles, r.item_genres = titles, genres
    r.meta["source"] = "movielens-100k"
    return r


def ml100k_tables(path: Path):
    """(user ids, item ids, titles, genres) from ``u.user`` / ``u.item`` beside ``path`` (None if absent).

    Read without pandas (latin-1 text split on ``|``): these small side tables are on the
    path of every ``train`` from an ml-100k folder, where importing pandas would cost more
    than reading them.
    """
    folder = path.parent
    item_ids = titles = genres = user_ids = None
    if (folder / "u.item").exists():
        item_ids, titles, genres = _ml100k_items(folder)
    if (folder / "u.user").exists():
        rows = _pipe_rows(folder / "u.user", "users", 1)
        user_ids = np.sort(np.array([_int_cell(f[0], folder / "u.user", n, "user") for n, f in rows],
                                    dtype=np.int64))
    return user_ids, item_ids, titles, genres


def _pipe_rows(path: Path, what: str, min_fields: int) -> list[tuple[int, list[str]]]:
    """(line number, fields) of each non-blank line of a ``|``-separated latin-1 file.

    Rows may be shorter than the first (missing trailing fields), not wider; fewer than
    ``min_fields`` fields, binary data or an empty file is an :class:`InputError`.
    """
    data = read_regular_bytes(path, what)
    if b"\x00" in data:
        raise InputError(f"{path}: binary data, not a text file")
    rows = [(n, line.split("|")) for n, line in enumerate(data.decode("latin-1").splitlines(), 1)
            if line.strip()]
    if not rows:
        raise InputError(f"{path}: empty file")
    width = len(rows[0][1])
    for n, fields in rows:
        if len(fields) > width:
            raise InputError(f"{path}: line {n}: {len(fields)} fields, more than the first "
                             f"line's {width} separated by '|'")
        if len(fields) < min_fields:
            raise InputError(f"{path}: line {n}: {len(fields)} field(s), expected at least "
                             f"{min_fields} separated by '|'")
    return rows


def _int_cell(cell: str, path: Path, line: int, col: str) -> int:
    """An exact integer id cell (``"7"``, ``" 7 "`` or ``"7.0"`` as pandas' to_numeric reads it)."""
    try:
        num = float(cell)
    except ValueError:
        num = float("nan")
    if not np.isfinite(num) or num != round(num) or abs(num) >= 2.0 ** 53:
        raise InputError(f"{path}: line {line}: {col} {cell!r} is not an integer")
    return int(num)


def _ml100k_items(folder: Path):
    genre_names = None
    if (folder / "u.genre").exists():
        text = read_regular_bytes(folder / "u.genre", "genres").decode("latin-1")
        genre_names = [ln.split("|")[0] for ln in text.splitlines() if ln.strip()]
    path = folder / "u.item"
    rows = _pipe_rows(path, "movies", 2)
    n_flags = max(len(rows[0][1]) - 5, 0)
    if genre_names is None or len(genre_names) != n_flags:
        genre_names = [f"genre{k}" for k in range(n_flags)]
    ids = np.array([_int_cell(f[0], path, n, "item id") for n, f in rows], dtype=np.int64)
    titles = np.array([f[1] for _, f in rows], dtype=object)
    genres = np.array(["|".join(g for g, flag in zip(genre_names, f[5:]) if flag == "1")
                       for _, f in rows], dtype=object)
    order = np.argsort(ids, kind="stable")
    return ids[order], titles[order], genres[order]


def read_ml1m(path) -> Ratings:
    """MovieLens 1M ``ratings.dat`` (``user::item::rating::timestamp``), with ``movies.dat`` beside it."""
    path = Path(path)
    if path.is_dir():
        path = path / "ratings.dat"
    df = _read_table(path, "::", ["user", "item", "rating", "timestamp"], engine="python")
    cols = _movielens_frame(path, df)
    r = from_arrays(cols["user"], cols["item"], cols["rating"], cols["timestamp"])
    attach_movies(r, path)
    r.meta["source"] = "movielens-1m"
    return r


def read_ml_csv(path) -> Ratings:
    """ml-latest-small / ml-25m ``ratings.csv`` (header userId,movieId,rating,timestamp) + ``movies.csv``."""
    path = Path(path)
    if path.is_dir():
        path = path / "ratings.csv"
    df = _read_table(path, ",", ["user", "item", "rating", "timestamp"], header=0)
    cols = _movielens_frame(path, df, first_line=2)
    r = from_arrays(cols["user"], cols["item"], cols["rating"], cols["timestamp"])
    attach_movies(r, path)
    r.meta["source"] = "movielens-csv"
    return r


def attach_movies(r: Ratings, path: Path) -> None:
    """Titles and genres from ``movies.dat`` (beside ``ratings.dat``) or ``movies.csv``, if present."""
    if path.name.lower().endswith(".dat"):
        movies = path.parent / "movies.dat"
        if movies.exists():
            _attach_movies(r, _read_table(movies, "::", ["item", "title", "genres"],
                                          encoding="latin-1", engine="python"), movies)
    else:
        movies = path.parent / "movies.csv"
        if movies.exists():
            _attach_movies(r, _read_table(movies, ",", ["item", "title", "genres"], header=0), movies)


def _attach_movies(r: Ratings, m: pd.DataFrame, where) -> None:
    ids = pd.to_numeric(m["item"], errors="coerce")
    if ids.isna().any() or (ids != ids.round()).any():
        raise InputError(f"{where}: non-integer movie id")
    lookup = pd.Series(range(len(m)), index=ids.astype(np.int64).to_numpy())
    lookup = lookup[~lookup.index.duplicated()]
    pos = lookup.reindex(r.item_ids).to_numpy()
    have = ~np.isnan(pos)
    titles = np.array([""] * r.n_items, dtype=object)
    genres = np.array([""] * r.n_items, dtype=object)
    titles[have] = m["title"].to_numpy(dtype=object)[pos[have].astype(int)]
    genres[have] = m["genres"].to_numpy(dtype=object)[pos[have].astype(int)]
    r.item_titles, r.item_genres = titles, genres


def read_ratings_csv(path) -> Ratings:
    """Generic ``user,item,rating[,timestamp]`` CSV, with or without a header row.

    Ids may be integers or strings; ratings must be finite numbers.
    """
    path = Path(path)
    has_header = csv_has_header(read_regular_bytes(path, "ratings")[:65536])
    df = _read_table(path, ",", ["user", "item", "rating", "timestamp"],
                     header=0 if has_header else None, required=3)
    line0 = 2 if has_header else 1
    rating = _check_ratings(path, _numeric(df, "rating", path, False, line0), line0)
    ts = _numeric(df, "timestamp", path, True, line0).astype(np.int64) if "timestamp" in df else None
    users = _id_column(df["user"], path, line0)
    items = _id_column(df["item"], path, line0)
    r = from_arrays(users, items, rating, ts)
    r.meta["source"] = "ratings-csv"
    return r


def csv_has_header(head: bytes) -> bool:
    """Whether a ratings CSV starting with ``head`` has a header: its third cell is no number."""
    first = head.split(b"\n", 1)[0].decode("utf-8", "replace")
    cells = [c.strip().lower() for c in first.strip().split(",")]
    if len(cells) < 3 or _DECIMAL.fullmatch(cells[2]):     # plain cases without pandas
        return False
    if _WORD.fullmatch(cells[2]) and cells[2] not in ("nan", "inf", "infinity"):
        return True
    return bool(pd.to_numeric(pd.Series([cells[2]]), errors="coerce").isna()[0]) \
        and cells[2] not in ("nan", "inf", "-inf", "infinity")


_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]*)?")
_WORD = re.compile(r"[a-z_][a-z_0-9]*")


_INTEGER = re.compile(r"[+-]?[0-9]{1,40}")
INT64_MAX = np.iinfo(np.int64).max


def _id_column(col: pd.Series, path, line0: int) -> np.ndarray:
    """int64 ids when every cell is an integer numeral within int64, else the exact texts."""
    empty = (col.str.strip() == "").to_numpy()
    if empty.any():
        raise InputError(f"{path}: line {int(np.flatnonzero(empty)[0]) + line0}: empty id")
    cells = col.str.strip()
    if cells.str.fullmatch(_INTEGER.pattern).all():
        values = [int(c) for c in cells]
        if all(-INT64_MAX - 1 <= v <= INT64_MAX for v in values):
            return np.array(values, dtype=np.int64)
    return col.to_numpy(dtype=object)


# -- HDF5 ------------------------------------------------------------------------------------

class H5Output:
    """A ratings HDF5 file opened by :meth:`values` as soon as a reader has parsed its rows:
    the value columns go to disk in the background while the ids are still being coded
    (:class:`.h5slices.Slices`); :func:`write_h5` with ``out`` then adds the ids and
    closes it. Left without that (the reader gave up, or an error): nothing is written."""

    def __init__(self, path, comm):
        self.path, self.comm, self.file = path, comm, None

    def values(self, rating: np.ndarray, timestamp: np.ndarray) -> None:
        """Open the file for this rank's ``len(rating)`` rows and write these two columns
        (unchanged until :func:`write_h5`). Collective."""
        n = len(rating)
        self.file = h5slices.Slices(self.path, KIND, {
            "user": (np.int32, n), "item": (np.int32, n), "rating": (np.float32, n),
            "timestamp": (np.int64, n)}, self.comm)
        self.file.put("rating", rating)
        self.file.put("timestamp", timestamp)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if self.file is not None:
            self.file.__exit__(*exc)


def write_h5(r: Ratings, path, comm=None, out: H5Output | None = None) -> Path | None:
    """Write ratings to an hpcrec HDF5 file, atomically: the whole set, or under ``comm``
    every rank's part (parts in rank order, as the parallel readers give them); with
    ``out`` (opened for ``path`` by a reader) only the ids are left to write."""
    comm = comm or serial()
    n = int(comm.allgather_counts(r.nnz).sum())
    small = {"user_ids": hdf5.label_data(r.user_ids), "item_ids": hdf5.label_data(r.item_ids),
             "item_title": r.item_titles, "item_genres": r.item_genres}
    attrs = {"n_ratings": n, "n_users": r.n_users, "n_items": r.n_items,
             "source": str(r.meta.get("source", ""))}
    if out is not None and out.file is not None:
        out.file.put("user", r.user)
        out.file.put("item", r.item)
        return out.file.close(small, attrs)
    return h5slices.write(path, KIND, small, {"user": r.user, "item": r.item, "rating": r.rating,
                                              "timestamp": r.timestamp}, attrs=attrs, comm=comm)


def read_h5(path, part: int = 0, parts: int = 1) -> Ratings:
    """Read part ``part`` of ``parts`` (equal shares) of the ratings of an HDF5 file (default: all)."""
    with hdf5.open_checked(path, KIND) as fh:
        n = hdf5.attr_int(fh, "n_ratings")
        n = n if n >= 0 else hdf5.dataset(fh, "rating", "f").shape[0]
        ds = {k: hdf5.dataset(fh, k, kinds, length=n) for k, kinds in
              (("user", "iu"), ("item", "iu"), ("rating", "f"), ("timestamp", "iu"))}
        n_users, n_items = hdf5.attr_int(fh, "n_users"), hdf5.attr_int(fh, "n_items")
        uds = hdf5.dataset(fh, "user_ids", "iuO", length=n_users if n_users >= 0 else None)
        ids = hdf5.dataset(fh, "item_ids", "iuO", length=n_items if n_items >= 0 else None)
        lo, hi = chunk(n, part, parts)
        hdf5.check_read(path, 16 * (uds.size + 3 * ids.size) + 24 * (hi - lo))
        user_ids, item_ids = hdf5.read_ids(uds), hdf5.read_ids(ids)
        titles = genres = None
        if "item_title" in fh:
            titles = hdf5.read_labels(hdf5.dataset(fh, "item_title", "O", length=len(item_ids)))
        if "item_genres" in fh:
            genres = hdf5.read_labels(hdf5.dataset(fh, "item_genres", "O", length=len(item_ids)))
        cols = {k: d[lo:hi] for k, d in ds.items()}
        if hi > lo and cols["timestamp"].dtype.kind == "u" and cols["timestamp"].max() > INT64_MAX:
            raise InputError(f"{path}: timestamp beyond int64")
        for key, table in (("user", user_ids), ("item", item_ids)):  # before the int32 cast
            if hi > lo and (cols[key].min() < 0 or cols[key].max() >= len(table)):
                raise InputError(f"{path}: {key} index out of range 0..{len(table) - 1}")
        source = hdf5.attr_str(fh.attrs.get("source", ""))
    r = Ratings(cols["user"], cols["item"], cols["rating"], cols["timestamp"], user_ids, item_ids,
                titles, genres, {"source": source}, Shard(lo, n, part, parts))
    return r.validate(str(path))
