"""One entry point per data kind: any supported source in, this rank's slice out.

``load_transactions`` and ``load_ratings`` accept an HDF5 path (each rank reads only its
slice), a text file in a known format (parsed in memory, then sliced), or an in-memory
object (list, DataFrame, arrays); ``format=`` names the format of a path. Without it,
``detect_format`` infers it from the name and, for ``.dat`` and ``.csv``, the content — by
a fixed rule, never a silent guess: a ``.csv`` whose first line is a header of distinct
names (not all 0/1) and whose next lines (up to :data:`SNIFF_LINES`) all have as many cells,
each 0/1/True/False, is one-hot; a header whose third name is a rating (``user,item,rating``,
``userId,movieId,rating``, ``user_id,item_id,score`` ...) is ratings; two or more rows
without a header that all read as ``user,item,rating[,timestamp]`` numbers are ratings to a
caller that wants ratings, baskets to one that wants transactions, and refused (give
``--format``) where nothing says which; any other ``.csv`` is baskets.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..core.comm import Comm, fault_point, resolve, serial
from ..core.errors import InputError
from . import hdf5, ratings, streamread, transactions
from .inputs import check_regular
from .ratings import Ratings
from .transactions import Transactions

TRANSACTION_FORMATS = {
    "baskets-csv": transactions.read_baskets_csv,
    "fimi": transactions.read_fimi,
    "onehot-csv": transactions.read_onehot_csv,
}
RATING_FORMATS = {
    "movielens": None,        # dispatched on the file name below
    "ratings-csv": ratings.read_ratings_csv,
    "ratings-parquet": None,  # read in parallel by row groups (hpcrec.io.parquet)
}
FORMATS = (*TRANSACTION_FORMATS, *RATING_FORMATS, "hdf5")
SNIFF_LINES = 1000
BOOLEAN_CELLS = {"0", "1", "true", "false"}
RATING_NAMES = {"rating", "ratings", "score", "stars"}  # a ratings header's third name


def detect_format(path, kind: str | None = None) -> str:
    """The format of ``path`` from its name and, for ``.dat`` and ``.csv``, its content.

    ``kind`` (``"ratings"`` or ``"transactions"``) is what the caller will read, if it knows:
    it settles a headerless numeric CSV that could be either (module docstring).
    """
    p = Path(path)
    name = p.name.lower()
    if not p.exists():
        raise InputError(f"no such file or folder: {p}")
    if p.is_dir():
        if (p / "u.data").exists() or (p / "ratings.dat").exists() or (p / "ratings.csv").exists():
            return "movielens"
        raise InputError(f"{p}: a folder with no MovieLens ratings (u.data, ratings.dat or ratings.csv)")
    size = check_regular(p)
    if hdf5.is_hdf5(p) or name.endswith((".h5", ".hdf5")):
        return "hdf5"
    if size <= 65536 and not _head(p, 65536).strip():  # no format to tell
        raise InputError(f"{p}: empty file")
    if name == "u.data" or (name.startswith("u") and name.endswith((".base", ".test"))) \
            or name == "ratings.dat" or (name == "ratings.csv" and (p.parent / "movies.csv").exists()):
        return "movielens"
    if name.endswith(".dat"):
        return "movielens" if b"::" in _first_line(p) else "fimi"
    if name.endswith(".parquet"):
        return "ratings-parquet"
    if name.endswith(".csv"):
        first = _first_line(p).decode("utf-8-sig", "replace").strip().lower()
        cells = [c.strip().strip('"') for c in first.split(",")]
        if len(cells) >= 3 and cells[2] in RATING_NAMES and not any(map(_is_number, cells[:2])):
            return "ratings-csv"
        return _csv_kind(p, kind)
    raise InputError(f"{p}: cannot tell the format from the name; give --format "
                     f"({', '.join(FORMATS)})")


def _head(path: Path, nbytes: int) -> bytes:
    check_regular(path)
    with path.open("rb") as fh:
        return fh.read(nbytes)


def _first_line(path: Path) -> bytes:
    return _head(path, 65536).split(b"\n", 1)[0]


def _is_number(cell: str) -> bool:
    try:
        return math.isfinite(float(cell))
    except ValueError:
        return False


def _looks_like_ratings(rows: list[list[str]]) -> bool:
    """Whether two or more rows all read as ``user,item,rating[,timestamp]`` numbers (one
    width, 3 or 4); one line is too little to tell a header of numbered items from a rating."""
    width = len(rows[0])
    return len(rows) >= 2 and width in (3, 4) and all(
        len(r) == width and all(_is_number(c.strip()) for c in r) for r in rows)


def _csv_kind(path: Path, kind: str | None = None) -> str:
    """``onehot-csv``, ``baskets-csv`` or ``ratings-csv`` by the rule of the module docstring;
    a file that is none of them clearly is refused with the choices to give as ``--format``."""
    import csv
    import io as pyio
    text = _head(path, 1 << 20).decode("utf-8-sig", "replace")
    lines = text.splitlines()[:SNIFF_LINES + 1]
    if len(text) == 1 << 20 and len(lines) <= SNIFF_LINES:
        lines = lines[:-1]                       # the last line may be cut
    try:
        rows = [r for r in csv.reader(pyio.StringIO("\n".join(lines))) if r]
    except csv.Error:
        return "baskets-csv"   # its reader reports the malformed line
    if len(rows) < 2 or not all(len(r) == len(rows[0]) and all(
            c.strip().lower() in BOOLEAN_CELLS for c in r) for r in rows[1:]):
        if not (rows and _looks_like_ratings(rows)):
            return "baskets-csv"
        if kind is None:
            raise InputError(f"{path}: every row reads as user,item,rating[,timestamp] numbers "
                             "with no header: ratings or baskets of numbered items? give "
                             "--format ratings-csv or --format baskets-csv")
        return "ratings-csv" if kind == "ratings" else "baskets-csv"
    header = [c.strip() for c in rows[0]]
    if len(set(header)) == len(header) and "" not in header \
            and not all(c.lower() in BOOLEAN_CELLS for c in header):
        return "onehot-csv"
    raise InputError(f"{path}: rows of only 0/1/True/False cells under a header that is not a "
                     "list of distinct item names: one-hot or baskets? give --format onehot-csv "
                     "or --format baskets-csv")


def kind_of(path, format: str | None = None) -> str:  # noqa: A002 - the user's word for it
    """``transactions`` or ``ratings`` for a path (and optional explicit format)."""
    fmt = format or detect_format(path)
    if fmt == "hdf5":
        with hdf5.open_checked(path, ("transactions", "ratings")) as fh:
            return hdf5.attr_str(fh.attrs["hpcrec_kind"])
    return "transactions" if fmt in TRANSACTION_FORMATS else "ratings"


def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    return fmt


MOVIELENS_READERS = {"ml100k": ratings.read_ml100k, "ml1m": ratings.read_ml1m,
                     "mlcsv": ratings.read_ml_csv}


def movielens_file(path) -> tuple[Path, str]:
    """The ratings file of a MovieLens file or folder, and its release layout (ml100k, ml1m, mlcsv)."""
    p = Path(path)
    name = p.name.lower()
    if not p.exists():
        raise InputError(f"no such file or folder: {p}")
    if p.is_dir():
        for candidate, layout in (("u.data", "ml100k"), ("ratings.dat", "ml1m"),
                                  ("ratings.csv", "mlcsv")):
            if (p / candidate).exists():
                return p / candidate, layout
        raise InputError(f"{p}: a folder with no MovieLens ratings (u.data, ratings.dat or ratings.csv)")
    if check_regular(p) <= 65536 and not _head(p, 65536).strip():  # no format to tell
        raise InputError(f"{p}: empty file")
    if name == "ratings.dat" or (name.endswith(".dat") and b"::" in _first_line(p)):
        return p, "ml1m"
    if name.endswith(".csv"):
        return p, "mlcsv"
    return p, "ml100k"


def read_movielens(path) -> Ratings:
    """MovieLens ratings from a file or folder: 100K (``u.data``...), 1M (``::``) or CSV releases."""
    file, layout = movielens_file(path)
    return MOVIELENS_READERS[layout](file)


def load_transactions(source, comm: Comm | None = None, format: str | None = None,  # noqa: A002
                      partition: bool = True) -> Transactions:
    """This rank's slice of transactions from a path, list of lists, DataFrame or Transactions.

    ``format`` names a path's format (see :data:`FORMATS`); by default it is detected.
    """
    comm = resolve(comm)
    fault_point("read", comm)
    if isinstance(source, Transactions):
        whole = source
    elif isinstance(source, (str, Path)):
        fmt = _check_format(format or detect_format(source, "transactions"))
        if fmt == "hdf5":
            return transactions.read_h5(source, *_part(comm, partition))
        if fmt not in TRANSACTION_FORMATS:
            raise InputError(f"{source}: holds ratings ({fmt}), not transactions")
        part = streamread.read(source, fmt, None, comm if partition else serial())
        if part is not None:
            return streamread.redistribute(part, comm) if partition else part
        whole = TRANSACTION_FORMATS[fmt](source)
    elif hasattr(source, "columns") and hasattr(source, "dtypes"):
        whole = transactions.from_onehot(source)
    else:
        try:
            whole = transactions.from_lists(source)
        except TypeError:
            raise InputError(f"cannot read transactions from a {type(source).__name__}") from None
    return whole.part(comm.rank, comm.size) if partition else whole


def load_ratings(source, comm: Comm | None = None, format: str | None = None,  # noqa: A002
                 partition: bool = True) -> Ratings:
    """This rank's share of ratings from a path, DataFrame, (users, items, ratings) or Ratings.

    ``format`` names a path's format (see :data:`FORMATS`); by default it is detected.
    """
    comm = resolve(comm)
    fault_point("read", comm)
    if isinstance(source, Ratings):
        whole = source
    elif isinstance(source, (str, Path)):
        fmt = _check_format(format or detect_format(source, "ratings"))
        if fmt == "hdf5":
            return ratings.read_h5(source, *_part(comm, partition))
        if fmt in TRANSACTION_FORMATS:
            raise InputError(f"{source}: holds transactions ({fmt}), not ratings")
        file, layout = movielens_file(source) if fmt == "movielens" else (Path(source), fmt)
        part = _read_parts(file, fmt, layout, comm if partition else serial())
        if part is not None:
            return streamread.redistribute(part, comm) if partition else part
        whole = read_movielens(source) if fmt == "movielens" else RATING_FORMATS[fmt](source)
    elif hasattr(source, "columns"):
        whole = ratings.from_frame(source)
    elif isinstance(source, tuple) and len(source) in (3, 4):
        whole = ratings.from_arrays(*source)
    else:
        raise InputError(f"cannot read ratings from a {type(source).__name__}")
    return whole.part(comm.rank, comm.size) if partition else whole


def _part(comm: Comm, partition: bool) -> tuple[int, int]:
    """(part, parts) a rank reads: its own part, or the whole data set."""
    return (comm.rank, comm.size) if partition else (0, 1)


def load_any(path, format: str | None = None):  # noqa: A002
    """The whole data set at ``path`` (transactions or ratings), unpartitioned."""
    if kind_of(path, format) == "transactions":
        return load_transactions(path, format=format, partition=False)
    return load_ratings(path, format=format, partition=False)


def _read_parts(path, fmt: str, layout: str, comm: Comm, out=None):
    """This rank's part of a file read in parallel (Parquet, or text in the fast grammar),
    else None (``out``: see :func:`.streamread.read_ratings`)."""
    if fmt == "ratings-parquet":
        from . import parquet
        return parquet.read_ratings(path, comm)
    return streamread.read(path, fmt, layout, comm, out)


def convert(source, output, format: str | None = None, comm: Comm | None = None):  # noqa: A002
    """Convert a data file to hpcrec HDF5 ``output``: every rank parses its part and writes it.

    FIMI and ratings text within the fast grammar are read in parallel (see
    :mod:`.streamread`) and every rank writes its rows into the one file (see
    :mod:`.h5slices`: nothing is gathered; the value columns of ratings go to disk while the
    ids are coded); any other input is read and written by rank 0
    alone. Collective: call it on every rank. Returns the output path on rank 0, None elsewhere.
    """
    comm = resolve(comm)
    with comm.collective_errors():
        fault_point("read", comm)
        fmt = _check_format(format or detect_format(source))
        file, layout = movielens_file(source) if fmt == "movielens" else (Path(source), fmt)
    with ratings.H5Output(output, comm) as out:   # ratings: values written while ids are coded
        part = _read_parts(file, fmt, layout, comm, out)
        if isinstance(part, Ratings):
            return ratings.write_h5(part, output, comm, out)
    if part is not None:
        return write_h5(part, output, comm)
    with comm.collective_errors():  # written only when every rank got through the read
        if comm.is_root:
            return write_h5(load_any(source, fmt), output)
    return None


def write_h5(data, path, comm: Comm | None = None) -> Path | None:
    """Write transactions or ratings to hpcrec HDF5 (atomically): the whole data set, or
    with ``comm`` every rank's part (collective; the path on rank 0, None elsewhere)."""
    if isinstance(data, Transactions):
        return transactions.write_h5(data, path, comm)
    return ratings.write_h5(data, path, comm)


DESCRIBE_SLICE_BYTES = 1 << 28  # an HDF5 file is summarised in slices of about this size


def _slices(path: Path):
    """(part, parts) of an HDF5 file read one after the other (no communicator needed)."""
    n = max(1, -(-path.stat().st_size // DESCRIBE_SLICE_BYTES))
    return ((k, n) for k in range(n))


def describe(path, format: str | None = None) -> dict:  # noqa: A002
    """Summary of a data file: kind, rows, items, nnz, density, size on disk (and users for ratings).

    Text is parsed whole; HDF5 is read and validated slice by slice, so files larger than
    memory can be described.
    """
    p = Path(path)
    fmt = _check_format(format or detect_format(p))
    kind = kind_of(p, fmt)
    if fmt == "hdf5":
        read = transactions.read_h5 if kind == "transactions" else ratings.read_h5
        parts = (read(p, *part) for part in _slices(p))
    else:
        parts = iter([load_any(p, fmt)])
    nnz, total, lo, hi = 0, 0.0, float("inf"), float("-inf")
    for data in parts:
        nnz += data.nnz
        if kind == "ratings" and data.nnz:
            total += float(data.rating.sum(dtype=np.float64))
            lo, hi = min(lo, float(data.rating.min())), max(hi, float(data.rating.max()))
    if kind == "transactions":
        rows, items = data.n_total, data.n_items
        info = {"kind": kind, "rows": rows, "items": items, "nnz": nnz,
                "avg_items_per_row": nnz / rows if rows else 0.0}
    else:
        rows, items = data.n_users, data.n_items
        info = {"kind": kind, "rows": rows, "items": items, "nnz": nnz, "users": rows,
                "rating_min": lo if nnz else None, "rating_max": hi if nnz else None,
                "rating_mean": total / nnz if nnz else None}
    info["density"] = nnz / (rows * items) if rows and items else 0.0
    info["size_bytes"] = p.stat().st_size if p.is_file() else sum(
        f.stat().st_size for f in p.iterdir() if f.is_file())
    info["format"] = fmt
    if fmt == "hdf5":
        info["format_version"] = hdf5.FORMAT_VERSION   # open_checked accepted no other
    return info
