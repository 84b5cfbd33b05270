"""Numeric ratings lines parsed by pyarrow's CSV reader (C++), where it is exact.

Used by :mod:`.streamread` when pyarrow is installed (it is optional: the ``parquet`` and
``test`` extras), before the compiled tokenizer of ``hpcrec.kernels.textparse``: a block
is handed to pyarrow only inside a grammar where both give the same numbers — bytes from
``0-9 . - SEP LF``, CR only before LF, every run of digits and dots at most 15 bytes long
(so a rating ``m / 10**k`` has m < 10**15: its correctly rounded value, which pyarrow and
the tokenizer both compute), no empty field, non-negative ids and timestamps. A block
outside it returns None and goes to the tokenizer, which defers to the serial reader.
Not importing Numba here is half the point: a ratings ``convert`` then starts in ~0.3 s
of imports instead of ~2 s (Numba, and the SciPy it loads on the first compiled call).
"""
from __future__ import annotations

import numpy as np

MAX_RUN = 15


def _pyarrow():
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv
    except ImportError:
        return None
    return pa, pacsv


def available() -> bool:
    return _pyarrow() is not None


def _in_grammar(block: np.ndarray, sep: int) -> bool:
    numeric = ((block - 48).astype(np.uint8) < 10) | (block == 46)      # 0-9 and '.'
    if not (numeric | (block == sep) | (block == 10) | (block == 13) | (block == 45)).all():
        return False
    cr = np.flatnonzero(block == 13)
    if len(cr) and (cr[-1] + 1 >= len(block) or np.any(block[cr + 1] != 10)):
        return False
    edges = np.flatnonzero(~numeric)
    if len(edges) == 0:
        return len(block) <= MAX_RUN
    longest = max(int(edges[0]), len(block) - 1 - int(edges[-1]),
                  int((edges[1:] - edges[:-1]).max(initial=1)) - 1)
    return longest <= MAX_RUN


def _values(column, dtype) -> np.ndarray:
    """A null-free numeric column's values, read from its buffers (``to_numpy`` would import
    pandas, a quarter of a second)."""
    pieces = [np.frombuffer(c.buffers()[1], dtype=dtype, count=len(c),
                            offset=c.offset * np.dtype(dtype).itemsize) for c in column.chunks]
    return pieces[0] if len(pieces) == 1 else np.concatenate(pieces, dtype=dtype)


def numbers(block: np.ndarray, sep: bytes, n_fields: int) -> list[np.ndarray] | None:
    """``user, item, rating[, timestamp]`` columns (int64, int64, float64, int64) of the
    lines in ``block``, or None outside the grammar of the module docstring."""
    arrow = _pyarrow()
    if arrow is None or len(sep) != 1 or not _in_grammar(block, sep[0]):
        return None
    pa, pacsv = arrow
    names = ["user", "item", "rating", "timestamp"][:n_fields]
    types = {"user": pa.int64(), "item": pa.int64(), "rating": pa.float64(), "timestamp": pa.int64()}
    try:
        table = pacsv.read_csv(
            pa.py_buffer(block),
            read_options=pacsv.ReadOptions(column_names=names, use_threads=False),
            parse_options=pacsv.ParseOptions(delimiter=sep.decode(), quote_char=False,
                                             escape_char=False, ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(column_types={k: types[k] for k in names},
                                                 null_values=[], strings_can_be_null=False,
                                                 check_utf8=False))
    except pa.ArrowInvalid:
        return None
    if any(table.column(k).null_count for k in names):
        return None
    cols = [_values(table.column(k), np.float64 if k == "rating" else np.int64) for k in names]
    if any(len(c) and c.min() < 0 for k, c in zip(names, cols) if k != "rating"):
        return None
    return cols
